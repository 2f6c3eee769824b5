// What the client tests stand in with: a storage in memory that shows what it holds.

/** A `FlowStorage` in memory; `items` is what it holds. */
export function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}
