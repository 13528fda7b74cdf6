// An ES module in a .js file: the nearest package.json has "type": "module".
export async function handler(event) {
  return { ...event, module: 'esm-js', importMetaUrl: import.meta.url.startsWith('file://') };
}
