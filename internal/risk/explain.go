package risk

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Explain renders r as a plain-text table for `canopy risk explain ID`: the
// score, then one row per factor with its value, weight, contribution and
// detail, ending with the total. It never fails; a Result with no factors
// prints only the score.
func Explain(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "risk score %d/100\n", r.Score)
	if len(r.Factors) == 0 {
		return b.String()
	}
	b.WriteByte('\n')
	nameW, valW, wW := len("FACTOR"), len("VALUE"), len("WEIGHT")
	for _, f := range r.Factors {
		nameW = max(nameW, len(f.Name))
		valW = max(valW, len(formatValue(f.Value)))
		wW = max(wW, len(formatWeight(f.Weight)))
	}
	row := func(name, val, weight, points, detail string) {
		line := fmt.Sprintf("%-*s  %-*s  %*s  %6s  %s", nameW, name, valW, val, wW, weight, points, detail)
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	row("FACTOR", "VALUE", "WEIGHT", "POINTS", "DETAIL")
	sum := 0
	for _, f := range r.Factors {
		row(f.Name, formatValue(f.Value), formatWeight(f.Weight), strconv.Itoa(f.Contribution), f.Detail)
		sum += f.Contribution
	}
	row("total", "", "", strconv.Itoa(sum), "")
	return b.String()
}

func formatWeight(w float64) string { return strconv.FormatFloat(w, 'g', -1, 64) }

func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		return strconv.FormatFloat(x, 'g', 4, 64)
	case string:
		if x == "" {
			return "-"
		}
		return x
	}
	return fmt.Sprint(v)
}

// formatAge renders a duration in the largest whole unit that fits: days,
// hours or minutes.
func formatAge(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d >= time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}
