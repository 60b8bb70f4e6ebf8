package directory_test

import (
	"bytes"
	"testing"

	"github.com/healow-mcp/healow-mcp/practice/directory"
)

// directorySize is today's directory: about 15 MB.
const directorySize = 15 << 20

// BenchmarkParse reads a generated directory of about 15 MB (an Organization and an Endpoint
// per practice, linked both ways) into an index, as the first search of a process does.
func BenchmarkParse(b *testing.B) {
	doc := genDirectory(directorySize)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var idx *directory.Index
	for b.Loop() {
		var err error
		if idx, err = directory.Parse(bytes.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(idx.Len()), "practices")
}

// BenchmarkSearch is one search of that index, by a name's word and a city: every practice is
// scored.
func BenchmarkSearch(b *testing.B) {
	idx, err := directory.Parse(bytes.NewReader(genDirectory(directorySize)))
	if err != nil {
		b.Fatal(err)
	}
	for _, query := range []string{"sunrise springfield", "pediatrics", genCode(12345)} {
		q, err := directory.ParseQuery(query)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(query, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if found, _ := idx.Search(q, directory.DefaultLimit); len(found) == 0 {
					b.Fatal("nothing found")
				}
			}
		})
	}
}
