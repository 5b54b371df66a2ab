// `npm run build` (prepack runs it): the TypeScript compiler with tsconfig.build.json emits ESM
// JavaScript, .d.ts and source maps into dist/. One thing is added to a plain `tsc` run: our
// sources import each other without extensions (bundler resolution), but Node, webpack 5 and
// TypeScript's `nodenext` resolution need the full path of a relative import in what we ship, so
// the emit rewrites every relative specifier ("./client") to the file it names ("./client.js").
// Done on the syntax tree, in the JavaScript and in the declarations, so source maps stay right.
import { existsSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const configPath = resolve(root, "tsconfig.build.json");

/** "./client" → "./client.js", "./engine" (a folder) → "./engine/index.js"; throws when it names nothing. */
export function fullySpecified(specifier: string, fromFile: string): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
  if (/\.(c|m)?js$|\.json$/.test(specifier)) return specifier;
  const base = resolve(dirname(fromFile), specifier);
  if (existsSync(`${base}.ts`)) return `${specifier}.js`;
  if (existsSync(resolve(base, "index.ts"))) return `${specifier}/index.js`;
  throw new Error(`build: "${specifier}" in ${fromFile} names no .ts file or folder with an index.ts`);
}

/** A transformer that rewrites the module specifiers of imports, exports, import() and import("…") types. */
function rewriteSpecifiers<T extends ts.SourceFile | ts.Bundle>(context: ts.TransformationContext): (top: T) => T {
  const f = context.factory;
  return (top) => {
    if (!ts.isSourceFile(top)) return top;
    const file = top.fileName;
    const literal = (node: ts.Expression | undefined): ts.StringLiteral | undefined =>
      node !== undefined && ts.isStringLiteral(node) ? f.createStringLiteral(fullySpecified(node.text, file)) : undefined;
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isImportDeclaration(node)) {
        const s = literal(node.moduleSpecifier);
        if (s) return f.updateImportDeclaration(node, node.modifiers, node.importClause, s, node.attributes);
      } else if (ts.isExportDeclaration(node)) {
        const s = literal(node.moduleSpecifier);
        if (s) return f.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, s, node.attributes);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        const s = literal(node.argument.literal as ts.Expression);
        if (s) {
          const argument = f.updateLiteralTypeNode(node.argument, s);
          return f.updateImportTypeNode(node, argument, node.attributes, node.qualifier, node.typeArguments, node.isTypeOf);
        }
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [first, ...rest] = node.arguments;
        const s = literal(first);
        if (s) return f.updateCallExpression(node, node.expression, node.typeArguments, [s, ...rest]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitEachChild(top, visit, context) as T;
  };
}

function report(diagnostics: readonly ts.Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  };
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}

function build(): void {
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => report([d]),
  });
  if (parsed === undefined) throw new Error(`build: cannot read ${configPath}`);
  report(parsed.errors);
  rmSync(resolve(root, parsed.options.outDir ?? "dist"), { recursive: true, force: true });
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  report(ts.getPreEmitDiagnostics(program));
  const emitted = program.emit(undefined, undefined, undefined, false, {
    after: [rewriteSpecifiers],
    afterDeclarations: [rewriteSpecifiers],
  });
  report(emitted.diagnostics);
  console.log(`build: ${parsed.fileNames.length} files compiled into ${parsed.options.outDir}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) build();
