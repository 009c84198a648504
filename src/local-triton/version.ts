/** The version local-triton reports in ServerMetadata (triage's own version). */
export const LOCAL_TRITON_VERSION = '0.1.0';
