// Package rows turns FHIR R4 resources into compact rows: for each resource, the facts a
// clinician reads from it (what, when, the value and its range, the status, who and where) and
// the id to ask for the rest, in about a tenth of the resource's bytes. Rows are what typed
// searches return by default; the resources themselves stay one `detail: "full"` away.
//
// A row is built from a resource the practice sent, which is hostile input: every text is cut
// to a bounded length, and a resource whose members are not what FHIR says becomes a row that
// says so rather than an error that loses the rest of the page.
package rows
