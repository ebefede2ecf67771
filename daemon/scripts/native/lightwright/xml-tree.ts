/**
 * A one-pass XML reader for data-exchange files: checks well-formedness and builds the element
 * tree as plain data, in the shape the Lightwright reader walks:
 *   - an element holding only text is its text, trimmed (`""` when empty or self-closing);
 *   - an element with child elements is an object by child name, a repeated name an array in
 *     document order, and text beside children under `#text`;
 *   - attributes, comments, processing instructions and the DOCTYPE are skipped; CDATA is text;
 *     the five predefined entities and character references are decoded.
 * This replaced a general XML library's validator plus parser (two passes, per-node bookkeeping
 * for features this format never uses): a 5,000-fixture export took ~500 ms, see
 * docs/performance.md. Errors carry the line and column of the offending character.
 */

export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

export class XmlSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

interface Open {
  name: string;
  /** Offset of the `<` that opened it (for "never closed"). */
  at: number;
  children: XmlObject | null;
  text: string;
}

/** Parses `xml` into `{ rootName: value }`; XmlSyntaxError for anything not well formed. */
export function parseXmlTree(xml: string): XmlObject {
  const fail = (at: number, reason: string): never => {
    let line = 1;
    let lineStart = 0;
    for (let i = xml.indexOf("\n"); i !== -1 && i < at; i = xml.indexOf("\n", i + 1)) {
      line++;
      lineStart = i + 1;
    }
    throw new XmlSyntaxError(line, at - lineStart + 1, reason);
  };
  const stack: Open[] = [];
  let result: XmlObject | null = null;
  let pos = 0;
  const n = xml.length;
  if (xml.charCodeAt(0) === 0xfeff) pos = 1;

  const addText = (raw: string, at: number): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (raw.trim() !== "") fail(at + raw.length - raw.trimStart().length, "text outside the root element");
      return;
    }
    top.text += raw.indexOf("&") === -1 ? raw : decodeEntities(raw, at, fail);
  };

  while (pos < n) {
    const lt = xml.indexOf("<", pos);
    if (lt === -1) {
      addText(xml.slice(pos), pos);
      break;
    }
    if (lt > pos) addText(xml.slice(pos, lt), pos);
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (xml.startsWith("<!--", lt)) {
        const end = xml.indexOf("-->", lt + 4);
        if (end === -1) fail(lt, "comment is never closed");
        pos = end + 3;
      } else if (xml.startsWith("<![CDATA[", lt)) {
        const end = xml.indexOf("]]>", lt + 9);
        if (end === -1) fail(lt, "CDATA section is never closed");
        const top = stack[stack.length - 1];
        if (top === undefined) fail(lt, "CDATA outside the root element");
        else top.text += xml.slice(lt + 9, end);
        pos = end + 3;
      } else if (xml.startsWith("<!DOCTYPE", lt) && stack.length === 0 && result === null) {
        pos = skipDoctype(xml, lt, fail);
      } else {
        fail(lt, "unexpected markup declaration");
      }
      continue;
    }
    if (next === 0x3f /* ? */) {
      const end = xml.indexOf("?>", lt + 2);
      if (end === -1) fail(lt, "processing instruction is never closed");
      pos = end + 2;
      continue;
    }
    if (next === 0x2f /* / */) {
      const nameEnd = readName(xml, lt + 2);
      const name = xml.slice(lt + 2, nameEnd);
      if (name === "") fail(lt + 2, "closing tag without a name");
      let gt = nameEnd;
      while (gt < n && isSpace(xml.charCodeAt(gt))) gt++;
      if (xml.charCodeAt(gt) !== 0x3e) fail(gt, `closing tag </${name}> is not closed by ">"`);
      const top = stack.pop();
      if (top === undefined) fail(lt, `closing tag </${name}> without an opening tag`);
      else if (top.name !== name) fail(lt, `closing tag </${name}> does not match <${top.name}>`);
      else close(top);
      pos = gt + 1;
      continue;
    }
    // An opening (or self-closing) tag.
    const nameEnd = readName(xml, lt + 1);
    const name = xml.slice(lt + 1, nameEnd);
    if (name === "") fail(lt + 1, "tag without a name");
    if (stack.length === 0 && result !== null) fail(lt, `a second root element <${name}>`);
    const { end, selfClosing } = skipAttributes(xml, nameEnd, name, fail);
    const open: Open = { name, at: lt, children: null, text: "" };
    if (selfClosing) close(open, true);
    else stack.push(open);
    pos = end;
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed !== undefined) fail(unclosed.at, `<${unclosed.name}> is never closed`);
  if (result === null) fail(n, "no root element");
  return result as unknown as XmlObject;

  function close(el: Open, empty = false): void {
    const text = empty ? "" : el.text.trim();
    let value: XmlValue;
    if (el.children === null) value = text;
    else {
      value = el.children;
      if (text !== "") value["#text"] = text;
    }
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      result = { [el.name]: value };
      return;
    }
    const siblings = (parent.children ??= Object.create(null) as XmlObject);
    const before = siblings[el.name];
    if (before === undefined) siblings[el.name] = value;
    // An element's own value is never an array, so an array here is a repeated name.
    else if (Array.isArray(before)) before.push(value);
    else siblings[el.name] = [before, value];
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** XML name characters, by code (non-ASCII letters are accepted without the full table). */
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a || c >= 0xc0;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0xb7;
}

function readName(xml: string, from: number): number {
  if (from >= xml.length || !isNameStart(xml.charCodeAt(from))) return from;
  let i = from + 1;
  while (i < xml.length && isNameChar(xml.charCodeAt(i))) i++;
  return i;
}

/** Past the attributes of a tag whose name ends at `from`: the offset after `>` or `/>`. */
function skipAttributes(xml: string, from: number, tag: string, fail: (at: number, reason: string) => never): { end: number; selfClosing: boolean } {
  let i = from;
  const n = xml.length;
  for (;;) {
    const before = i;
    while (i < n && isSpace(xml.charCodeAt(i))) i++;
    const c = xml.charCodeAt(i);
    if (c === 0x3e) return { end: i + 1, selfClosing: false };
    if (c === 0x2f) {
      if (xml.charCodeAt(i + 1) !== 0x3e) fail(i, `"/" inside <${tag}> must be followed by ">"`);
      return { end: i + 2, selfClosing: true };
    }
    if (i >= n) fail(from, `<${tag}> is not closed by ">"`);
    if (i === before) fail(i, `attributes of <${tag}> must be separated by spaces`);
    const nameEnd = readName(xml, i);
    if (nameEnd === i) fail(i, `unexpected character "${xml[i]}" in <${tag}>`);
    const attr = xml.slice(i, nameEnd);
    i = nameEnd;
    while (i < n && isSpace(xml.charCodeAt(i))) i++;
    if (xml.charCodeAt(i) !== 0x3d) fail(i, `attribute ${attr} of <${tag}> has no value`);
    i++;
    while (i < n && isSpace(xml.charCodeAt(i))) i++;
    const q = xml.charCodeAt(i);
    if (q !== 0x22 && q !== 0x27) fail(i, `value of attribute ${attr} of <${tag}> is not quoted`);
    const close = xml.indexOf(xml[i], i + 1);
    if (close === -1) fail(i, `value of attribute ${attr} of <${tag}> is never closed`);
    const lt = xml.indexOf("<", i + 1);
    if (lt !== -1 && lt < close) fail(lt, `"<" inside the value of attribute ${attr} of <${tag}>`);
    i = close + 1;
  }
}

function skipDoctype(xml: string, from: number, fail: (at: number, reason: string) => never): number {
  let depth = 0;
  for (let i = from + 9; i < xml.length; i++) {
    const c = xml[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === ">" && depth <= 0) return i + 1;
  }
  return fail(from, "DOCTYPE is never closed");
}

function decodeEntities(raw: string, at: number, fail: (at: number, reason: string) => never): string {
  let out = "";
  let pos = 0;
  for (let amp = raw.indexOf("&"); amp !== -1; amp = raw.indexOf("&", pos)) {
    out += raw.slice(pos, amp);
    const semi = raw.indexOf(";", amp + 1);
    if (semi === -1) fail(at + amp, 'entity reference without ";"');
    const ref = raw.slice(amp + 1, semi);
    let ch: string | undefined;
    if (ref.startsWith("#x")) ch = codePoint(Number.parseInt(ref.slice(2), 16), /^#x[0-9A-Fa-f]+$/.test(ref));
    else if (ref.startsWith("#")) ch = codePoint(Number.parseInt(ref.slice(1), 10), /^#[0-9]+$/.test(ref));
    else ch = ENTITIES[ref];
    if (ch === undefined) fail(at + amp, `unknown entity &${ref};`);
    out += ch;
    pos = semi + 1;
  }
  return out + raw.slice(pos);
}

function codePoint(cp: number, wellFormed: boolean): string | undefined {
  return wellFormed && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
}
