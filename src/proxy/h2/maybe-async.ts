/**
 * Continues with `next` at once when `value` is already there, or after it resolves:
 * the proxy's common path (cached key, no quota, known instance) then costs no promise
 * and no microtask. A synchronous throw in `next` propagates synchronously.
 */
export function andThen<T, U>(value: T | Promise<T>, next: (resolved: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
