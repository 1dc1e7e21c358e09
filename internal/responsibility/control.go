package responsibility

import (
	"fmt"
	"slices"
	"strings"
)

// Control is a posture control (a framework control or a rule) to
// attribute, as a posture pack describes it.
type Control struct {
	// ID names the control, e.g. "cis-aws-3.0:1.4" or "mlps2-l3:8.2.4.1 a".
	ID string
	// Area is the control's responsibility area (a posture rule's
	// responsibility_area).
	Area string
	// ResourceTypes are the resource types the control's rules check
	// ("AWS::IAM::User"); they give the service model.
	ResourceTypes []string
	// Provider is the cloud the control checks (aws, alicloud, gcp, azure,
	// kubernetes; any spelling), if one.
	Provider string
	// Owner is the control's typical owner in its framework's reference
	// (the MLPS cloud extension gives provider, customer or shared per
	// item); "" when the framework says nothing. It wins over the matrix.
	Owner Party
}

// AttributeControl says who is responsible for a posture control.
//
// The service models are those of the control's resource types (the
// catalogue's), or ctx.DefaultModel (else IaaS) when none has one. When the
// matrix cells of the control's area agree across those models, that party
// holds the control; when they differ the control is shared and Parts says
// which party holds it for which model's resources. ServiceModel is the
// first of the models (IaaS, PaaS, SaaS order). An Owner given by the
// framework wins over the matrix, and the basis says what the matrix would
// have said. A contract service that covers the area (and whose scope
// admits the control's provider and model) moves it to the vendor as for a
// finding. The error reports an unknown area or owner.
func (a *Attributor) AttributeControl(c Control, ctx Context) (Attribution, error) {
	if !a.isArea(c.Area) {
		return Attribution{}, fmt.Errorf("responsibility: control %s: area %q: not an area of the matrix", c.ID, c.Area)
	}
	switch c.Owner {
	case "", Provider, Customer, Shared:
	default:
		return Attribution{}, fmt.Errorf("responsibility: control %s: owner %q: want provider, customer or shared", c.ID, c.Owner)
	}
	provider := NormalizeProvider(c.Provider)
	var models []ServiceModel
	var typed []string
	for _, t := range c.ResourceTypes {
		rt, ok := a.catalog.Lookup(t, provider)
		switch {
		case !ok:
			typed = append(typed, t+" is not in the catalogue")
		case rt.Model == "":
			typed = append(typed, t+" has no service model")
		default:
			if !slices.Contains(models, rt.Model) {
				models = append(models, rt.Model)
			}
			typed = append(typed, t+" is "+string(rt.Model))
		}
	}
	if len(models) == 0 {
		def, why := IaaS, "IaaS (default)"
		if validModel(string(ctx.DefaultModel)) {
			def, why = ctx.DefaultModel, string(ctx.DefaultModel)+" (tenant default)"
		}
		models = []ServiceModel{def}
		typed = append(typed, "no resource type with a service model: "+why)
	}
	slices.SortFunc(models, func(x, y ServiceModel) int {
		return slices.Index(ServiceModels(), x) - slices.Index(ServiceModels(), y)
	})
	modelWhy := strings.Join(typed, ", ")

	f := &facts{provider: provider, providerName: providerNames[provider]}
	if f.providerName == "" {
		f.providerName = c.Provider
	}
	att := Attribution{Area: c.Area, ServiceModel: models[0]}
	basis := []string{fmt.Sprintf("control %s: area %s", c.ID, c.Area), modelWhy}
	var cells []string
	parties := map[Party]bool{}
	for _, m := range models {
		cell, _ := a.matrix.Cell(c.Area, m)
		cells = append(cells, cellBasis(c.Area, m, cell))
		parties[cell.Party] = true
	}
	first, _ := a.matrix.Cell(c.Area, models[0])
	if len(parties) == 1 {
		att.Party = first.Party
		att.Parts = nameParts(first.Parts, f.providerName)
	} else {
		att.Party = Shared
		for _, m := range models {
			cell, _ := a.matrix.Cell(c.Area, m)
			if cell.Party == Shared {
				for _, p := range nameParts(cell.Parts, f.providerName) {
					p.Duty = "for " + string(m) + " resources: " + p.Duty
					att.Parts = append(att.Parts, p)
				}
				continue
			}
			att.Parts = append(att.Parts, Part{Party: cell.Party, Name: nameFor(cell.Party, f.providerName), Duty: fmt.Sprintf("the control for %s resources (%s × %s)", m, c.Area, m)})
		}
	}
	basis = append(basis, strings.Join(cells, "; "))
	if c.Owner != "" && c.Owner != att.Party {
		basis = append(basis, fmt.Sprintf("framework owner %s wins over the matrix's %s", c.Owner, att.Party))
		att.Party = c.Owner
		att.Parts = nil
		if c.Owner == Shared {
			att.Parts = nameParts(first.Parts, f.providerName)
			if att.Parts == nil {
				att.Parts = []Part{
					{Party: Provider, Name: f.providerName, Duty: "the platform's side of control " + c.ID},
					{Party: Customer, Duty: "its own system's side of control " + c.ID},
				}
			}
		}
	} else if c.Owner != "" {
		basis = append(basis, "framework owner "+string(c.Owner)+" agrees")
	}
	if ctx.Contract != nil {
		if party, parts, why, ok := ctx.Contract.apply(f, c.Area, KindMisconfiguration, models[0], att.Parts); ok {
			att.Party, att.Parts = party, parts
			basis = append(basis, why)
		}
	}
	att.Basis = strings.Join(basis, "; ")
	return att, nil
}

func nameFor(p Party, provider string) string {
	if p == Provider {
		return provider
	}
	return ""
}
