// Package fhir holds what healow-mcp knows about FHIR R4 (4.0.1) itself, independent of SMART,
// eClinicalWorks or the practice actor: the closed list of resource types, the Observation and
// Condition categories the tools offer (with their CodeSystems), and which types hold a
// patient's data and how a search and a record name that patient (the Patient compartment).
//
// It depends on the standard library only, so practice/smart, practice and mcp can all read
// the same tables.
package fhir
