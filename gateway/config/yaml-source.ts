/**
 * YAML text → plain data, with every syntax problem as an issue (line, column) and a way to place
 * later schema problems back on the line of the key they are about.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type YAMLError } from 'yaml'
import { ROOT_PATH, type ConfigIssue } from './config-error.js'
import type { PathSegment } from './env-substitution.js'

export interface YamlSource {
  /** The document as plain data; `undefined` when syntax errors make the tree unreliable. */
  data: unknown
  /** Syntax errors and warnings (unresolved tags, ...); a strict config treats both as problems. */
  issues: ConfigIssue[]
  /** 1-based position of the key (or item) at `path`, else of its nearest ancestor that exists. */
  locate(path: readonly PathSegment[]): { line: number; column: number } | undefined
}

/** Parses one YAML 1.2 document. Never throws. */
export function parseYamlSource(text: string): YamlSource {
  const lineCounter = new LineCounter()
  // uniqueKeys: a repeated key is an error, not "last one wins" (a silent override of a setting).
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true })
  const issues = [...doc.errors, ...doc.warnings].map((e) => yamlIssue(e, lineCounter))
  const locate = (path: readonly PathSegment[]): { line: number; column: number } | undefined => {
    const offset = findOffset(doc, path)
    if (offset === undefined) return undefined
    const pos = lineCounter.linePos(offset)
    return { line: pos.line, column: pos.col }
  }
  if (doc.errors.length > 0) return { data: undefined, issues, locate }
  try {
    // toJS throws for an alias to a missing anchor or too many alias expansions ("billion laughs").
    return { data: doc.toJS({ maxAliasCount: 100 }), issues, locate }
  } catch (err) {
    issues.push({ path: ROOT_PATH, message: `YAML: ${(err as Error).message}` })
    return { data: undefined, issues, locate }
  }
}

function yamlIssue(err: YAMLError, lineCounter: LineCounter): ConfigIssue {
  // prettyErrors appends " at line L, column C:" and a code frame; keep the first sentence only,
  // the position goes into line/column.
  const first = err.message.split('\n')[0] ?? err.message
  const message = first.replace(/ at line \d+, column \d+:?$/, '')
  const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0])
  const kind = err.name === 'YAMLWarning' ? 'YAML' : 'YAML syntax error'
  return { path: ROOT_PATH, message: `${kind}: ${message}`, line: pos.line, column: pos.col }
}

/** Offset of the key node for map entries (where an operator looks), or of the item for sequences. */
function findOffset(doc: Document, path: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents
  // No fallback to the document start: "line 1" for a missing top-level section would mislead.
  let best: number | undefined
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg))
      if (!pair) break
      best = rangeStart(pair.key) ?? best
      node = pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg]
      if (node === undefined) break
      best = rangeStart(node) ?? best
    } else {
      break
    }
  }
  return best
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] | null } | null)?.range
  return range ? range[0] : undefined
}
