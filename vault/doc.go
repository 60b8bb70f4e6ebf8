// Package vault keeps what healow-mcp must remember about each connected practice, split by how
// sensitive it is.
//
// Secrets (the OAuth access and refresh tokens) go through the [Secrets] interface: [Keychain]
// stores them in the OS keychain, and [Memory] holds them in memory for tests, the demo and the
// sandbox. Everything else about a practice (its name, FHIR base URL, patient id, granted scopes,
// token expiry, timestamps and the cached SMART configuration) is a [Practice] row in a SQLite
// [Store]. The two never mix: [Practice] has no secret fields, so no token can reach the database
// file.
//
// Several healow processes (an MCP server per assistant, plus the CLI) may open the same store at
// once. The store is built for that: WAL journal, a busy timeout, short write transactions that
// take the write lock up front, and a [Store.Generation] counter that lets a process notice that
// another one changed something.
package vault
