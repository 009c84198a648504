/** The version local-triton reports in ServerMetadata (triage's own version). */
export { TRIAGE_VERSION as LOCAL_TRITON_VERSION } from '../version';
