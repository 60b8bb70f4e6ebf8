package fhir

import (
	"strings"
	"testing"
)

func TestLookupCategory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		resource, name string
		want           Category
		wantErr        []string
	}{
		{"Observation", "vital-signs", Category{"vital-signs", ObservationCategorySystem, "vital-signs"}, nil},
		{"Observation", " SDOH ", Category{"sdoh", USCoreCategorySystem, "sdoh"}, nil},
		{"Condition", "health-concern", Category{"health-concern", USCoreConditionSystem, "health-concern"}, nil},
		{"Condition", "problem-list-item", Category{"problem-list-item", ConditionCategorySystem, "problem-list-item"}, nil},
		{"Observation", "vitals", Category{}, []string{"unknown Observation category", "laboratory", "vital-signs", "sdoh", "activity"}},
		{"Condition", "laboratory", Category{}, []string{"problem-list-item, encounter-diagnosis, health-concern"}},
		{"Patient", "x", Category{}, []string{"Observation and Condition"}},
	}
	for _, tt := range tests {
		got, err := LookupCategory(tt.resource, tt.name)
		if tt.wantErr != nil {
			if err == nil {
				t.Errorf("LookupCategory(%q, %q) accepted an unknown name", tt.resource, tt.name)
				continue
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("LookupCategory(%q, %q) = %+v, %v; want %+v", tt.resource, tt.name, got, err, tt.want)
		}
	}
}

func TestCategoryLists(t *testing.T) {
	t.Parallel()
	if len(ObservationCategories) != 9 || len(ConditionCategories) != 3 {
		t.Errorf("category lists changed: %d Observation, %d Condition", len(ObservationCategories), len(ConditionCategories))
	}
}
