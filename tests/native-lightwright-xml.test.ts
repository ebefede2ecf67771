import fs from "node:fs";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { XmlSyntaxError, parseXmlTree } from "../daemon/scripts/native/lightwright/xml-tree.ts";
import { lightwrightExport } from "./fixtures/packaging-lightwright/generate-export.ts";

// The general-purpose reader the one-pass reader replaced, with the options it was used with:
// the tree the Lightwright reader walks must not change.
const reference = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, ignoreDeclaration: true, processEntities: true, jPath: false });
const SAMPLE = fs.readFileSync(new URL("../examples/lightwright/show.lw6.xml", import.meta.url), "utf8");

function syntaxError(xml: string): XmlSyntaxError {
  try {
    parseXmlTree(xml);
  } catch (e) {
    if (e instanceof XmlSyntaxError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(xml)}`);
}

describe("an exchange file reads into the same tree as a general XML parser gives", () => {
  it("the example show's export and generated rigs of several sizes", () => {
    for (const xml of [SAMPLE, lightwrightExport(1), lightwrightExport(40), lightwrightExport(1000)]) {
      expect(JSON.stringify(parseXmlTree(xml))).toBe(JSON.stringify(reference.parse(xml)));
    }
  });

  it("comments, the declaration, a DOCTYPE, attributes, CDATA, entities, empty and repeated elements", () => {
    const xml = `\uFEFF<?xml version="1.0"?>\n<!-- exported --><!DOCTYPE a [<!ELEMENT a ANY>]>\n<a x="1" y='2 > 1'><b>one &amp; &lt;two&gt; &quot;&apos;</b><b/><c><![CDATA[x<y]]></c><d><e>1</e></d><b> 3 </b></a>`;
    const tree = parseXmlTree(xml);
    expect(JSON.stringify(tree)).toBe(JSON.stringify(reference.parse(xml.slice(1))));
    expect(tree).toEqual({ a: { b: [`one & <two> "'`, "", "3"], c: "x<y", d: { e: "1" } } });
  });

  it("decodes character references", () => {
    expect(parseXmlTree("<a>&#65;&#x42;&#x1F3AD;</a>")).toEqual({ a: "AB🎭" });
  });
});

describe("XML that is not well formed is refused with its line and column", () => {
  const cases: [string, string, number, number, RegExp][] = [
    ["a tag closed by another", "<SLData>\n  <InstrumentData>\n    <UID_1>\n  </InstrumentData>\n</SLData>", 4, 3, /<\/InstrumentData> does not match <UID_1>/],
    ["an element never closed", "<a>\n  <b>x</b>", 1, 1, /<a> is never closed/],
    ["text outside the root", "<a/>\n oops", 2, 2, /text outside the root element/],
    ["a second root", "<a/><b/>", 1, 5, /second root element <b>/],
    ["an unquoted attribute", '<a x=1/>', 1, 6, /not quoted/],
    ["an unknown entity", "<a>\n fish &chips; </a>", 2, 7, /unknown entity &chips;/],
    ["an ampersand without a reference", "<a>salt & pepper</a>", 1, 9, /without ";"/],
    ["a closing tag with no opening", "<a></a></b>", 1, 8, /without an opening tag/],
    ["a comment never closed", "<a><!-- x </a>", 1, 4, /comment is never closed/],
    ["a tag without a name", "<a>< b/></a>", 1, 5, /tag without a name/],
    ["no element at all", "  \n", 2, 1, /no root element/],
  ];
  for (const [what, xml, line, column, reason] of cases) {
    it(what, () => {
      const e = syntaxError(xml);
      expect([e.line, e.column]).toEqual([line, column]);
      expect(e.reason).toMatch(reason);
    });
  }
});
