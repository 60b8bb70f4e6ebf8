package fhir

import (
	"slices"
	"testing"
)

func TestResourceTypes(t *testing.T) {
	t.Parallel()
	all := ResourceTypes()
	if !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != len(all) {
		t.Errorf("ResourceTypes() is not sorted without repeats: %q", all)
	}
	for _, name := range all {
		if !IsResourceType(name) {
			t.Errorf("IsResourceType(%q) = false", name)
		}
	}
	for _, name := range []string{"", "patient", "Patient/1", "Bundle ", "MedicationOrder"} {
		if IsResourceType(name) {
			t.Errorf("IsResourceType(%q) = true", name)
		}
	}
	all[0] = "Changed"
	if ResourceTypes()[0] != "Account" {
		t.Error("changing the list ResourceTypes returned changed the table")
	}
}
