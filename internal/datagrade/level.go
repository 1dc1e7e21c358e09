package datagrade

import (
	"fmt"
	"strings"
)

// Level is a grade of GB/T 43697-2024, ordered so that a larger value is the
// stricter grade: the four sub-levels of 一般数据 (general data, Appendix H),
// then 重要数据 (important data), then 核心数据 (core data). Taking the
// highest of several Levels is the standard's principle 就高从严. The zero
// value is [LevelUnknown].
type Level int

// Levels, from least to most strict.
const (
	LevelUnknown   Level = iota
	LevelGeneral1        // 一般数据1级: no harm (for example data that can be public)
	LevelGeneral2        // 一般数据2级
	LevelGeneral3        // 一般数据3级
	LevelGeneral4        // 一般数据4级
	LevelImportant       // 重要数据
	LevelCore            // 核心数据
)

// levelNames are the ids and Chinese names of the levels, as the reference
// spells them; the reference loader checks that they agree with the embedded
// reference, so a change there fails the build's tests.
var levelNames = [...]struct{ id, zh string }{
	LevelUnknown:   {"", "未定级"},
	LevelGeneral1:  {"general-1", "一般数据1级"},
	LevelGeneral2:  {"general-2", "一般数据2级"},
	LevelGeneral3:  {"general-3", "一般数据3级"},
	LevelGeneral4:  {"general-4", "一般数据4级"},
	LevelImportant: {"important", "重要数据"},
	LevelCore:      {"core", "核心数据"},
}

// String returns the level's id in the reference: "general-1" … "general-4",
// "important", "core"; "unknown" for [LevelUnknown].
func (l Level) String() string {
	if l <= LevelUnknown || int(l) >= len(levelNames) {
		return "unknown"
	}
	return levelNames[l].id
}

// ZH returns the level's Chinese name ("一般数据3级", "重要数据", "核心数据").
func (l Level) ZH() string {
	if l < LevelUnknown || int(l) >= len(levelNames) {
		return levelNames[LevelUnknown].zh
	}
	return levelNames[l].zh
}

// Class returns the top-level grade the level belongs to: "core",
// "important" or "general"; "" for [LevelUnknown]. The values are those of
// risk.DataGrade (internal/risk), so the risk engine's data-grade factor takes
// risk.DataGrade(level.Class()).
func (l Level) Class() string {
	switch {
	case l == LevelCore:
		return "core"
	case l == LevelImportant:
		return "important"
	case l >= LevelGeneral1 && l <= LevelGeneral4:
		return "general"
	}
	return ""
}

// Sublevel returns 1–4 for the general-data sub-levels and 0 otherwise.
func (l Level) Sublevel() int {
	if l >= LevelGeneral1 && l <= LevelGeneral4 {
		return int(l - LevelGeneral1 + 1)
	}
	return 0
}

// ParseLevel parses a level id ("general-3", "important", "core") or Chinese
// name ("一般数据3级", "重要数据", "核心数据").
func ParseLevel(s string) (Level, error) {
	t := strings.TrimSpace(s)
	for l := LevelGeneral1; l <= LevelCore; l++ {
		if strings.EqualFold(t, levelNames[l].id) || t == levelNames[l].zh {
			return l, nil
		}
	}
	return LevelUnknown, fmt.Errorf("%q is not a level (want general-1 … general-4, important or core)", s)
}

// MarshalText implements encoding.TextMarshaler: the level's id.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseLevel];
// "unknown" gives [LevelUnknown].
func (l *Level) UnmarshalText(b []byte) error {
	if string(b) == "unknown" {
		*l = LevelUnknown
		return nil
	}
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
