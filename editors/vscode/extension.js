// The netproof extension: highlighting comes from the grammar in
// syntaxes/; everything else (diagnostics, hover, go-to-definition, quick
// fixes, formatting) from `netproof lsp`, started here over stdio.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("netproof");
  const command = config.get("path", "netproof");
  const args = ["lsp"];
  if (config.get("verbose", false)) {
    args.push("--verbose");
  }
  const serverOptions = {
    run: { command, args, transport: TransportKind.stdio },
    debug: { command, args, transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [{ language: "netproof" }],
    outputChannelName: "netproof",
  };
  client = new LanguageClient("netproof", "netproof", serverOptions, clientOptions);
  // Starting also launches the server; a missing executable is reported in
  // the output channel rather than thrown at the user.
  client.start().catch((error) => {
    vscode.window.showErrorMessage(
      `netproof: cannot start \`${command} lsp\` (${error.message}); set netproof.path`
    );
  });
  context.subscriptions.push({ dispose: () => client && client.stop() });
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
