package risk

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
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
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	// AlignRight right-aligns every column; we want text left and numbers
	// right, so the text cells are padded by hand.
	nameW, valW := len("FACTOR"), len("VALUE")
	for _, f := range r.Factors {
		nameW = max(nameW, len(f.Name))
		valW = max(valW, len(formatValue(f.Value)))
	}
	row := func(name, val, weight, contrib, detail string) {
		fmt.Fprintf(tw, "%-*s\t%-*s\t%s\t%s\t  %s\n", nameW, name, valW, val, weight, contrib, detail)
	}
	row("FACTOR", "VALUE", "WEIGHT", "POINTS", "DETAIL")
	sum := 0
	for _, f := range r.Factors {
		row(f.Name, formatValue(f.Value), strconv.FormatFloat(f.Weight, 'g', -1, 64), strconv.Itoa(f.Contribution), f.Detail)
		sum += f.Contribution
	}
	row("total", "", "", strconv.Itoa(sum), "")
	tw.Flush()
	// tabwriter pads the last cell; trim trailing blanks per line.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

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
