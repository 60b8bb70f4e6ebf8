package mcp

import (
	"context"
	"errors"
	"fmt"
)

// explain turns an error from below into a tool error the model can act on. Most errors already
// say what to do; this adds what they cannot know, such as a deadline that ran out.
func explain(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the practice did not answer in time; try again, or ask for less: %w", err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("the request was cancelled: %w", err)
	}
	return err
}
