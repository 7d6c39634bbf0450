import SerializerSelector from '@fastify/fast-json-stringify-compiler';

type Options = Record<string, unknown>;
interface ResponseRoute {
  schema: unknown;
  method: string;
  url: string;
  httpStatus: string;
  contentType?: string;
}
type Serialize = (data: unknown) => string;
type Compile = (route: ResponseRoute) => Serialize;

const selector = SerializerSelector();
/** Compiled serializers of this process, by external schemas and options (their number in `contexts`) and response schema. */
const compiled = new Map<string, Serialize>();
/**
 * The JSON of each set of external schemas and options seen, numbered: a key holds the number,
 * not the ~90 KB of JSON (held once per route and status, the keys were ~10 MB of the server's
 * heap, marked at every full GC).
 */
const contexts = new Map<string, number>();

/**
 * Fastify's response serializer factory (its default, fast-json-stringify), remembering each
 * compiled serializer for the process. Fastify compiles every route's response schemas when an
 * app starts, about 0.8 s of CPU per app here; an app built again (a test's app, the CLI's
 * in-process server) reuses the functions compiled for the same schemas. A serializer is a pure
 * function of its schemas and options, so sharing it changes no byte; the key is their JSON
 * (the external schemas' and options' by its number).
 */
export function buildSerializer(externalSchemas: Options, serializerOpts?: Options): Compile {
  const make = selector(externalSchemas as never, serializerOpts as never) as unknown as Compile;
  const json = JSON.stringify([externalSchemas, serializerOpts ?? null]);
  let context = contexts.get(json);
  if (context === undefined) contexts.set(json, (context = contexts.size));
  return (route) => {
    const key = `${context}\n${route.httpStatus}\n${route.contentType ?? ''}\n${JSON.stringify(route.schema)}`;
    let serialize = compiled.get(key);
    if (!serialize) compiled.set(key, (serialize = make(route)));
    return serialize;
  };
}
