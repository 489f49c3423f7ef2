package sandbox

import (
	"slices"
	"time"
)

// The name lists (Customer, Vendor), tracking lists (Class, Department)
// and Item, as the query engine and GET {entity}/{id} serve them (§2.3).
// The reference names their fields only in part (Class: Id, Name,
// FullyQualifiedName, SubClass, ParentRef, Active); the rest of each shape
// follows Intuit's entities and is not in the reference.

var (
	nameListFields   = []string{"Id", "DisplayName", "Active", "MetaData.CreateTime", "MetaData.LastUpdatedTime"}
	classFields      = []string{"Id", "Name", "FullyQualifiedName", "Active", "SubClass", "MetaData.CreateTime", "MetaData.LastUpdatedTime"}
	departmentFields = []string{"Id", "Name", "FullyQualifiedName", "Active", "SubDepartment", "MetaData.CreateTime", "MetaData.LastUpdatedTime"}
	itemFields       = []string{"Id", "Name", "FullyQualifiedName", "Active", "Type", "MetaData.CreateTime", "MetaData.LastUpdatedTime"}
)

// customerJSON is a Customer. CurrencyRef is its one currency, the home
// currency unless seeded otherwise: "customers each have one currency"
// (§2.7).
type customerJSON struct {
	DisplayName        string   `json:"DisplayName"`
	PrintOnCheckName   string   `json:"PrintOnCheckName"`
	FullyQualifiedName string   `json:"FullyQualifiedName"`
	Active             bool     `json:"Active"`
	Job                bool     `json:"Job"`
	CurrencyRef        refJSON  `json:"CurrencyRef"`
	Domain             string   `json:"domain"`
	Sparse             bool     `json:"sparse"`
	ID                 string   `json:"Id"`
	SyncToken          string   `json:"SyncToken"`
	MetaData           metaJSON `json:"MetaData"`
}

type vendorJSON struct {
	DisplayName      string   `json:"DisplayName"`
	PrintOnCheckName string   `json:"PrintOnCheckName"`
	Active           bool     `json:"Active"`
	CurrencyRef      refJSON  `json:"CurrencyRef"`
	Domain           string   `json:"domain"`
	Sparse           bool     `json:"sparse"`
	ID               string   `json:"Id"`
	SyncToken        string   `json:"SyncToken"`
	MetaData         metaJSON `json:"MetaData"`
}

func customerRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.Customers))
	for _, e := range co.Customers {
		j := customerJSON{
			DisplayName: e.DisplayName, PrintOnCheckName: e.DisplayName, FullyQualifiedName: e.DisplayName, Active: !e.Inactive,
			CurrencyRef: co.currencyRef(co.entityCurrency(&e)), Domain: "QBO", ID: e.ID, SyncToken: "0", MetaData: meta,
		}
		out = append(out, nameRow(e, meta, j))
	}
	return out
}

func vendorRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.Vendors))
	for _, e := range co.Vendors {
		j := vendorJSON{
			DisplayName: e.DisplayName, PrintOnCheckName: e.DisplayName, Active: !e.Inactive,
			CurrencyRef: co.currencyRef(co.entityCurrency(&e)), Domain: "QBO", ID: e.ID, SyncToken: "0", MetaData: meta,
		}
		out = append(out, nameRow(e, meta, j))
	}
	return out
}

func nameRow(e Entity, meta metaJSON, j any) row {
	return row{json: j, fields: map[string]value{
		"id": str(e.ID), "displayname": str(e.DisplayName), "active": boolean(!e.Inactive),
		"metadata.createtime": tm(meta.CreateTime), "metadata.lastupdatedtime": tm(meta.LastUpdatedTime),
	}}
}

type classJSON struct {
	Name               string   `json:"Name"`
	SubClass           bool     `json:"SubClass"`
	ParentRef          *refJSON `json:"ParentRef,omitempty"`
	FullyQualifiedName string   `json:"FullyQualifiedName"`
	Active             bool     `json:"Active"`
	Domain             string   `json:"domain"`
	Sparse             bool     `json:"sparse"`
	ID                 string   `json:"Id"`
	SyncToken          string   `json:"SyncToken"`
	MetaData           metaJSON `json:"MetaData"`
}

type departmentJSON struct {
	Name               string   `json:"Name"`
	SubDepartment      bool     `json:"SubDepartment"`
	ParentRef          *refJSON `json:"ParentRef,omitempty"`
	FullyQualifiedName string   `json:"FullyQualifiedName"`
	Active             bool     `json:"Active"`
	Domain             string   `json:"domain"`
	Sparse             bool     `json:"sparse"`
	ID                 string   `json:"Id"`
	SyncToken          string   `json:"SyncToken"`
	MetaData           metaJSON `json:"MetaData"`
}

func classRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.Classes))
	for _, c := range co.Classes {
		fq, parent := fullName(co.Classes, c)
		j := classJSON{
			Name: c.Name, SubClass: parent != nil, ParentRef: parent, FullyQualifiedName: fq, Active: !c.Inactive,
			Domain: "QBO", ID: c.ID, SyncToken: "0", MetaData: meta,
		}
		out = append(out, trackingRow(c, fq, "subclass", parent != nil, meta, j))
	}
	return out
}

func departmentRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	list := co.trackingList(departmentList)
	out := make([]row, 0, len(list))
	for _, d := range list {
		fq, parent := fullName(list, d)
		j := departmentJSON{
			Name: d.Name, SubDepartment: parent != nil, ParentRef: parent, FullyQualifiedName: fq, Active: !d.Inactive,
			Domain: "QBO", ID: d.ID, SyncToken: "0", MetaData: meta,
		}
		out = append(out, trackingRow(d, fq, "subdepartment", parent != nil, meta, j))
	}
	return out
}

func trackingRow(c Class, fq, subField string, sub bool, meta metaJSON, j any) row {
	return row{json: j, fields: map[string]value{
		"id": str(c.ID), "name": str(c.Name), "fullyqualifiedname": str(fq), "active": boolean(!c.Inactive),
		subField: boolean(sub), "metadata.createtime": tm(meta.CreateTime), "metadata.lastupdatedtime": tm(meta.LastUpdatedTime),
	}}
}

// fullName is c's FullyQualifiedName, "Parent:Child" as for accounts
// (§2.3), and its ParentRef. An unknown parent leaves c at the top; the
// walk stops after len(list) steps so a cycle in a seed cannot hang it.
func fullName(list []Class, c Class) (string, *refJSON) {
	name, next := c.Name, c.ParentID
	var parent *refJSON
	for range list {
		if next == "" {
			break
		}
		i := slices.IndexFunc(list, func(x Class) bool { return x.ID == next })
		if i < 0 {
			break
		}
		if parent == nil {
			parent = &refJSON{Value: next}
		}
		name, next = list[i].Name+":"+name, list[i].ParentID
	}
	return name, parent
}

// itemJSON is an Item. IncomeAccountRef names the account its sales post
// to (§2.2: "Items carry the income account"); a Category has none.
type itemJSON struct {
	Name               string   `json:"Name"`
	Active             bool     `json:"Active"`
	FullyQualifiedName string   `json:"FullyQualifiedName"`
	Type               string   `json:"Type"`
	IncomeAccountRef   *refJSON `json:"IncomeAccountRef,omitempty"`
	Domain             string   `json:"domain"`
	Sparse             bool     `json:"sparse"`
	ID                 string   `json:"Id"`
	SyncToken          string   `json:"SyncToken"`
	MetaData           metaJSON `json:"MetaData"`
}

func itemRows(co *company, _ time.Time) []row {
	meta := metaJSON{seeded(co), seeded(co)}
	out := make([]row, 0, len(co.Items))
	for _, it := range co.Items {
		j := itemJSON{
			Name: it.Name, Active: !it.Inactive, FullyQualifiedName: it.Name, Type: it.Type,
			Domain: "QBO", ID: it.ID, SyncToken: "0", MetaData: meta,
		}
		if it.IncomeAccountID != "" {
			j.IncomeAccountRef = &refJSON{Value: it.IncomeAccountID}
			if a := co.account(it.IncomeAccountID); a != nil {
				j.IncomeAccountRef.Name = a.Name
			}
		}
		out = append(out, row{json: j, fields: map[string]value{
			"id": str(it.ID), "name": str(it.Name), "fullyqualifiedname": str(it.Name), "active": boolean(!it.Inactive),
			"type": str(it.Type), "metadata.createtime": tm(meta.CreateTime), "metadata.lastupdatedtime": tm(meta.LastUpdatedTime),
		}})
	}
	return out
}
