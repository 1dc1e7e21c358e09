package dedup

//go:generate go run ./gencontrols ../../../shared/reference controls.json
