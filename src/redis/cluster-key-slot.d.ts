/** Types of cluster-key-slot (a dependency of ioredis, which ships none): Redis Cluster's CRC16 key slot. */
declare module 'cluster-key-slot' {
  /** The hash slot (0-16383) of a key; only the part inside the first non-empty {...} counts when there is one. */
  function calculateSlot(key: string | Buffer): number;
  export = calculateSlot;
}
