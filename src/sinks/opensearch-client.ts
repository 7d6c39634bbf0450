import type * as OpenSearch from '@opensearch-project/opensearch';

let library: typeof OpenSearch | undefined;

/**
 * The OpenSearch client library, loaded on first use: it adds about half a second of start-up
 * to every process that imports the sinks (the server, each CLI command, each test file), and
 * most never index a document.
 */
export async function openSearchLibrary(): Promise<typeof OpenSearch> {
  library ??= await import('@opensearch-project/opensearch');
  return library;
}

/**
 * The client's error classes. Only errors a client threw are classified, and a client exists
 * only once {@link openSearchLibrary} has loaded the library.
 */
export function openSearchErrors(): typeof OpenSearch.errors {
  if (!library) throw new Error('the OpenSearch client library is not loaded yet');
  return library.errors;
}
