package mcp

import (
	"context"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

// practiceIn is the input of a tool that needs nothing but the practice.
type practiceIn struct {
	Practice string `json:"practice,omitempty"`
}

type practitionerIn struct {
	Practice string `json:"practice,omitempty"`
	ID       string `json:"id" jsonschema:"e.g. from Patient.generalPractitioner"`
}

type coverageIn struct{ paging }

func (t *tools) addPatient(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name: "get_patient",
		Description: "The patient's demographics: name, birth date, gender, address, phone, identifiers (MRN), " +
			"primary care provider." + readHelp,
		OutputSchema: outputSchema[resourceOut](t),
		Annotations:  readOnly("Patient demographics"),
	}, t.getPatient)
	addTool(t, s, &sdk.Tool{
		Name:         "get_practitioner",
		Description:  "A clinician (Practitioner) by id: name, credentials, NPI, phone." + readHelp,
		OutputSchema: outputSchema[resourceOut](t),
		Annotations:  readOnly("Clinician"),
	}, t.getPractitioner)
	addSearch(t, s, searchTool[coverageIn]{
		name: "get_coverage", title: "Insurance", resource: "Coverage",
		description: "The patient's insurance: payor, plan, subscriber id, period.",
	})
}

func (t *tools) getPatient(ctx context.Context, _ *sdk.CallToolRequest, in practiceIn) (*sdk.CallToolResult, resourceOut, error) {
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, resourceOut{}, explain(err)
	}
	info, err := a.Info(ctx)
	if err != nil {
		return nil, resourceOut{}, explain(err)
	}
	out, err := t.readOne(ctx, a, target{resource: "Patient", id: info.PatientID}, practice.Request{Resource: "Patient", ID: info.PatientID})
	if err != nil {
		return nil, resourceOut{}, err
	}
	return nil, out, nil
}

func (t *tools) getPractitioner(ctx context.Context, _ *sdk.CallToolRequest, in practitionerIn) (*sdk.CallToolResult, resourceOut, error) {
	out, err := t.readTyped(ctx, in.Practice, "Practitioner", in.ID)
	if err != nil {
		return nil, resourceOut{}, err
	}
	return nil, out, nil
}

// readTyped reads resource by id, where the id may also be given as a reference
// "<resource>/<id>", the form the model finds in other resources.
func (t *tools) readTyped(ctx context.Context, key, resource, id string) (resourceOut, error) {
	id = strings.TrimPrefix(strings.TrimSpace(id), resource+"/")
	if !practice.IsID(id) {
		return resourceOut{}, fmt.Errorf("id: %s is not a %s id: give <id> or %s/<id> (1-64 letters, digits, '-' and '.')", quote.Quote(id), resource, resource)
	}
	a, err := t.reg.Lookup(ctx, key)
	if err != nil {
		return resourceOut{}, explain(err)
	}
	return t.readOne(ctx, a, target{resource: resource, id: id}, practice.Request{Resource: resource, ID: id})
}
