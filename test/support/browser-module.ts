/**
 * Imports one of the dashboard's browser modules (src/ui/*.js, plain JavaScript the API serves)
 * into a Node test, for its pure functions. The path is computed so that the type checker, which
 * does not read src/ui's JavaScript, takes the module as the shape the test declares.
 */
export async function browserModule<T>(name: string): Promise<T> {
  const url = new URL(`../../src/ui/${name}`, import.meta.url).href
  return (await import(url)) as T
}
