package fhir

import (
	"fmt"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// Category is a friendly category name and its FHIR coding.
type Category struct {
	Name   string // what a user or tool argument says, e.g. "vital-signs"
	System string // the CodeSystem URL, as US Core spells it
	Code   string // the code in that system
}

// The CodeSystems of the categories, as US Core spells them.
const (
	ObservationCategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
	USCoreCategorySystem      = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
	ConditionCategorySystem   = "http://terminology.hl7.org/CodeSystem/condition-category"
	USCoreConditionSystem     = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
)

// ObservationCategories are the Observation categories the tools know.
var ObservationCategories = []Category{
	{"laboratory", ObservationCategorySystem, "laboratory"},
	{"vital-signs", ObservationCategorySystem, "vital-signs"},
	{"social-history", ObservationCategorySystem, "social-history"},
	{"survey", ObservationCategorySystem, "survey"},
	{"exam", ObservationCategorySystem, "exam"},
	{"imaging", ObservationCategorySystem, "imaging"},
	{"procedure", ObservationCategorySystem, "procedure"},
	{"activity", ObservationCategorySystem, "activity"},
	{"sdoh", USCoreCategorySystem, "sdoh"},
}

// ConditionCategories are the Condition categories the tools know.
var ConditionCategories = []Category{
	{"problem-list-item", ConditionCategorySystem, "problem-list-item"},
	{"encounter-diagnosis", ConditionCategorySystem, "encounter-diagnosis"},
	{"health-concern", USCoreConditionSystem, "health-concern"},
}

// Categories returns the known categories of a resource type, in the order the tools list
// them, or nil for a type that has none.
func Categories(resource string) []Category {
	switch resource {
	case "Observation":
		return ObservationCategories
	case "Condition":
		return ConditionCategories
	}
	return nil
}

// LookupCategory finds a category of resource ("Observation" or "Condition")
// by its friendly name (case-insensitive). An unknown name yields an error
// listing the valid ones, so a tool can pass it straight to the user.
func LookupCategory(resource, name string) (Category, error) {
	cats := Categories(resource)
	if cats == nil {
		return Category{}, fmt.Errorf("%s has no categories this server knows; categories exist for Observation and Condition", quote.Quote(resource))
	}
	want := strings.TrimSpace(name)
	names := make([]string, len(cats))
	for i, c := range cats {
		if strings.EqualFold(c.Name, want) {
			return c, nil
		}
		names[i] = c.Name
	}
	return Category{}, fmt.Errorf("unknown %s category %s: use one of %s", resource, quote.Quote(name), strings.Join(names, ", "))
}
