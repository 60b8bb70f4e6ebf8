package smart

import (
	"fmt"
	"strings"
)

// Category is a friendly category name and its FHIR coding.
type Category struct {
	Name   string // what a user or tool argument says, e.g. "vital-signs"
	System string // the CodeSystem URL, as US Core spells it
	Code   string // the code in that system
}

const (
	observationCategorySystem = "http://terminology.hl7.org/CodeSystem/observation-category"
	usCoreCategorySystem      = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
	conditionCategorySystem   = "http://terminology.hl7.org/CodeSystem/condition-category"
	usCoreConditionSystem     = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
)

// ObservationCategories are the Observation categories the tools know.
var ObservationCategories = []Category{
	{"laboratory", observationCategorySystem, "laboratory"},
	{"vital-signs", observationCategorySystem, "vital-signs"},
	{"social-history", observationCategorySystem, "social-history"},
	{"survey", observationCategorySystem, "survey"},
	{"exam", observationCategorySystem, "exam"},
	{"imaging", observationCategorySystem, "imaging"},
	{"procedure", observationCategorySystem, "procedure"},
	{"activity", observationCategorySystem, "activity"},
	{"sdoh", usCoreCategorySystem, "sdoh"},
}

// ConditionCategories are the Condition categories the tools know.
var ConditionCategories = []Category{
	{"problem-list-item", conditionCategorySystem, "problem-list-item"},
	{"encounter-diagnosis", conditionCategorySystem, "encounter-diagnosis"},
	{"health-concern", usCoreConditionSystem, "health-concern"},
}

// categoriesFor returns the known categories of a resource type, or nil for
// a type that has none.
func categoriesFor(resource string) []Category {
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
	cats := categoriesFor(resource)
	if cats == nil {
		return Category{}, fmt.Errorf("%s has no categories this server knows; categories exist for Observation and Condition", Quote(resource))
	}
	want := strings.TrimSpace(name)
	names := make([]string, len(cats))
	for i, c := range cats {
		if strings.EqualFold(c.Name, want) {
			return c, nil
		}
		names[i] = c.Name
	}
	return Category{}, fmt.Errorf("unknown %s category %s: use one of %s", resource, Quote(name), strings.Join(names, ", "))
}
