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
/** Compiled serializers of this process, by external schemas, options and response schema. */
const compiled = new Map<string, Serialize>();

/**
 * Fastify's response serializer factory (its default, fast-json-stringify), remembering each
 * compiled serializer for the process. Fastify compiles every route's response schemas when an
 * app starts, about 0.8 s of CPU per app here; an app built again (a test's app, the CLI's
 * in-process server) reuses the functions compiled for the same schemas. A serializer is a pure
 * function of its schemas and options, so sharing it changes no byte; the key is their JSON.
 */
export function buildSerializer(externalSchemas: Options, serializerOpts?: Options): Compile {
  const make = selector(externalSchemas as never, serializerOpts as never) as unknown as Compile;
  const context = JSON.stringify([externalSchemas, serializerOpts ?? null]);
  return (route) => {
    const key = `${context}\n${route.httpStatus}\n${route.contentType ?? ''}\n${JSON.stringify(route.schema)}`;
    let serialize = compiled.get(key);
    if (!serialize) compiled.set(key, (serialize = make(route)));
    return serialize;
  };
}
