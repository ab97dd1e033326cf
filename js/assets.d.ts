// esbuild bundles a stylesheet imported from JavaScript as its text.
declare module "*.css" {
  const text: string;
  export default text;
}
