// Runs the TextMate grammar with the engine VS Code uses (vscode-textmate on
// Oniguruma) over the shipped examples and a few lines whose tokens are
// known. tests/editors.rs runs it (CI installs the packages with `npm ci`)
// besides checking the same grammar from Rust. Run it from editors/vscode:
//
//   npm ci && npm run test:grammar
"use strict";

const fs = require("fs");
const path = require("path");
const assert = require("assert");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..", "..", "..");
const grammarPath = path.join(__dirname, "..", "syntaxes", "netproof.tmLanguage.json");

async function main() {
  const wasm = fs.readFileSync(
    path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm")
  ).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () =>
      vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
  });
  const grammar = await registry.loadGrammar("source.netproof");

  // Each line: the tokens (text and innermost scope) the grammar must give.
  function tokens(line) {
    const { tokens } = grammar.tokenizeLine(line, vsctm.INITIAL);
    return tokens
      .map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]])
      .filter(([, scope]) => scope !== "source.netproof");
  }
  const expected = [
    ["  segment web-tier 10.10.11.0/24", [
      ["segment", "keyword.other.statement.netproof"],
      ["10.10.11.0/24", "constant.numeric.address.ipv4.netproof"],
    ]],
    ["    rule web-in allow from any to web01 service HTTPS applied-to internet # ☕", [
      ["rule", "keyword.other.statement.netproof"],
      ["allow", "keyword.control.action.netproof"],
      ["from", "keyword.other.clause.netproof"],
      ["any", "constant.language.netproof"],
      ["to", "keyword.other.clause.netproof"],
      ["service", "keyword.other.block.netproof"],
      ["HTTPS", "support.constant.service.netproof"],
      ["applied-to", "keyword.other.clause.netproof"],
      ["internet", "keyword.other.block.netproof"],
      ["# ☕", "comment.line.number-sign.netproof"],
    ]],
    ['  description "a \\"quoted\\" word"', [
      ["description", "keyword.other.statement.netproof"],
      ['"', "string.quoted.double.netproof"],
      ["a ", "string.quoted.double.netproof"],
      ['\\"', "constant.character.escape.netproof"],
      ["quoted", "string.quoted.double.netproof"],
      ['\\"', "constant.character.escape.netproof"],
      [" word", "string.quoted.double.netproof"],
      ['"', "string.quoted.double.netproof"],
    ]],
    ["service ops [tcp/22, udp/161-162, 2001:db8::/32, nat-gw]", [
      ["service", "keyword.other.block.netproof"],
      ["[", "punctuation.section.brackets.begin.netproof"],
      ["tcp/22", "support.type.protocol.netproof"],
      [",", "punctuation.separator.netproof"],
      ["udp/161-162", "support.type.protocol.netproof"],
      [",", "punctuation.separator.netproof"],
      ["2001:db8::/32", "constant.numeric.address.ipv6.netproof"],
      [",", "punctuation.separator.netproof"],
      ["]", "punctuation.section.brackets.end.netproof"],
    ]],
  ];
  for (const [line, want] of expected) {
    assert.deepStrictEqual(tokens(line), want, line);
  }

  // Every statement keyword the parser knows (read from its source) is
  // highlighted as a keyword.
  const source = fs.readFileSync(path.join(root, "src", "syntax", "keywords.rs"), "utf8");
  const list = source.match(/STATEMENT_KEYWORDS: &\[&str\] = &\[([^\]]*)\]/);
  assert.ok(list, "STATEMENT_KEYWORDS not found in src/syntax/keywords.rs");
  const keywords = [...list[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  assert.ok(keywords.length > 30, `only ${keywords.length} keywords read`);
  for (const keyword of keywords) {
    const found = tokens(`  ${keyword} name-1 10.0.0.0/24`);
    assert.strictEqual(found[0][0], keyword, keyword);
    assert.match(found[0][1], /^keyword\./, keyword);
  }

  // Every line of every example tokenizes, and a statement keyword that
  // starts a line is highlighted as a keyword.
  const examples = path.join(root, "grammar", "examples");
  let lines = 0;
  for (const file of fs.readdirSync(examples)) {
    for (const line of fs.readFileSync(path.join(examples, file), "utf8").split("\n")) {
      const found = tokens(line);
      const word = line.trim().split(/\s+/)[0];
      if (keywords.includes(word)) {
        assert.deepStrictEqual(found[0][0], word, `${file}: ${line}`);
        assert.match(found[0][1], /^keyword\./, `${file}: ${line}`);
      }
      lines += 1;
    }
  }
  console.log(
    `grammar: ${expected.length} known lines, ${keywords.length} keywords and ` +
      `${lines} example lines tokenized as expected`
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
