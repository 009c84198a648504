const STORAGE_KEY = 'triage.api-key';

/**
 * The signed-in API key. It lives in sessionStorage only: gone when the browser tab
 * closes, never in localStorage or a cookie (so no other tab or request carries it).
 */
export const keyStore = {
  get(): string | null {
    try {
      return sessionStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  },
  set(key: string): void {
    sessionStorage.setItem(STORAGE_KEY, key);
  },
  clear(): void {
    sessionStorage.removeItem(STORAGE_KEY);
  },
};
