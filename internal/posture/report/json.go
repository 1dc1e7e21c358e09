package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes r as one indented JSON document with the field names
// README.md documents. Text is written as is (no \u003c escapes for <, >
// and &): a consumer embedding it in HTML must escape it.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}
