import { describe, expect, it } from "vitest";
import { Schema } from "../daemon/crdt/schema.ts";
import { FieldNotFound, InvalidOperation } from "../daemon/crdt/errors.ts";

const schema = new Schema({
  facets: [
    {
      module: "lighting",
      name: "Fixture",
      key: "lighting.Fixture",
      fields: [
        { module: "lighting", facet: "Fixture", name: "channel", type: "int", key: "lighting.fixture.channel", facetKey: "lighting.Fixture" },
        { module: "lighting", facet: "Fixture", name: "name", type: "string", key: "lighting.fixture.name", facetKey: "lighting.Fixture" },
      ],
    },
    {
      module: "sm",
      name: "Contact",
      key: "sm.Contact",
      fields: [{ module: "sm", facet: "Contact", name: "name", type: "string", key: "sm.contact.name", facetKey: "sm.Contact" }],
    },
  ],
  tables: [{ module: "lighting", name: "lighting_fixtures", facets: ["lighting.Fixture"] }],
  edgeTypes: [],
});

describe("field addressing", () => {
  it("resolves short, module.field and module.facet.field names", () => {
    expect(schema.resolveField("channel").key).toBe("lighting.fixture.channel");
    expect(schema.resolveField("lighting.channel").key).toBe("lighting.fixture.channel");
    expect(schema.resolveField("lighting.Fixture.channel").key).toBe("lighting.fixture.channel");
  });

  it("an ambiguous short name is an error listing the candidates", () => {
    expect(() => schema.resolveField("name")).toThrow(InvalidOperation);
    expect(() => schema.resolveField("name")).toThrow(/lighting\.fixture\.name or sm\.contact\.name/);
  });

  it("an entity's facets narrow an ambiguous name", () => {
    expect(schema.resolveField("name", ["sm.Contact"]).key).toBe("sm.contact.name");
  });

  it("an unknown field is FieldNotFound with a suggestion", () => {
    expect(() => schema.resolveField("chanel")).toThrow(FieldNotFound);
    expect(() => schema.resolveField("chanel")).toThrow(/did you mean "channel"/);
  });
});
