//go:build !race

package pdfproc

const raceEnabled = false
