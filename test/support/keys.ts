// Packs encoded keys the way the hash backends take them: one byte array and n+1 offsets.
export function packKeys(keys: readonly Uint8Array[]): { packed: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(keys.length + 1);
  const packed = new Uint8Array(keys.reduce((n, k) => n + k.length, 0));
  let at = 0;
  keys.forEach((k, i) => {
    offsets[i] = at;
    packed.set(k, at);
    at += k.length;
  });
  offsets[keys.length] = at;
  return { packed, offsets };
}
