/**
 * @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load unless
 * `Reflect.getMetadata` exists. x509 stores no metadata of its own, so instead of a new
 * dependency (reflect-metadata) this installs the three functions tsyringe calls, with the
 * same semantics, and only when no polyfill is present already.
 */

type MetadataTable = Map<string | symbol | undefined, Map<unknown, unknown>>;

interface ReflectMetadata {
  getMetadata?: (key: unknown, target: object, property?: string | symbol) => unknown;
  getOwnMetadata?: (key: unknown, target: object, property?: string | symbol) => unknown;
  defineMetadata?: (
    key: unknown,
    value: unknown,
    target: object,
    property?: string | symbol,
  ) => void;
}

const reflect = Reflect as typeof Reflect & ReflectMetadata;

if (typeof reflect.getMetadata !== 'function') {
  const tables = new WeakMap<object, MetadataTable>();

  const own = (key: unknown, target: object, property?: string | symbol): unknown =>
    tables.get(target)?.get(property)?.get(key);

  reflect.getOwnMetadata = own;
  reflect.getMetadata = (key, target, property) => {
    // Metadata is inherited along the prototype chain, as in the reflect-metadata proposal.
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const value = own(key, t, property);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  reflect.defineMetadata = (key, value, target, property) => {
    let table = tables.get(target);
    if (table === undefined) tables.set(target, (table = new Map()));
    let forProperty = table.get(property);
    if (forProperty === undefined) table.set(property, (forProperty = new Map()));
    forProperty.set(key, value);
  };
}

export {};
