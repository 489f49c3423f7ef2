package records

import (
	"fmt"
	"reflect"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The commerce records have a fast path: a plan per message, built once at
// start from its descriptor and the rule tables in fields.go and limits.go,
// that decodes, checks and encodes the generated Go type directly. Walking
// a message through protoreflect cost more than everything else the gateway
// does with a record; the plans do the same work with field accessors and
// answers resolved in advance. The reflective code stays for any other
// message, and the tests hold the two to the same answers.

// stringRule is the rule a string field's value is held to, after its size.
type stringRule uint8

const (
	ruleNone stringRule = iota
	ruleID
	ruleDecimal
	ruleTime
	ruleCurrency
	ruleEnum
)

// fieldMeta is what the rule tables say about one field.
type fieldMeta struct {
	name protoreflect.Name // the proto name, which the list limits go by
	json string
	num  protowire.Number
	// For strings: the size class, the rule, and that rule's details.
	class    textClass
	rule     stringRule
	dec      decimalKind
	enum     enumRule
	time     bool // a timestamp, checked against the arrival by CheckDates
	modified bool // modified_date or source_modified_date
	country  bool // trimmed by Normalize
	// required is the answer when a required field is missing, else "".
	required string
}

func (f *fieldMeta) meta() *fieldMeta { return f }

// field is one field of the generated message type M.
type field[M any] interface {
	meta() *fieldMeta
	// bind checks that the field is what the accessor says it is.
	bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error
	// has reports whether the field is populated, as protoreflect's Has.
	has(m *M) bool
	// present reports whether a required field was sent: for a string,
	// with something other than spaces.
	present(m *M) bool
	decode(d *decoder, m *M) error
	validate(v *checker, m *M)
	dates(c *dateChecker, m *M)
	normalize(m *M)
	size(m *M) int
	encode(b []byte, m *M) ([]byte, error)
	// wire reads one occurrence of the field from the protobuf encoding:
	// v is a length-delimited value, x a varint's.
	wire(d *WireDecoder, m *M, typ protowire.Type, v []byte, x uint64) bool
	repeats() bool
}

// plan is the fast path of one message type.
type plan[M any] struct {
	md       protoreflect.MessageDescriptor
	fields   []field[M] // in descriptor order, which is field-number order
	names    []string   // the fields' JSON names, for lookups and suggestions
	required []field[M] // in requiredFields order
	idIdx    int        // the string field "id", or -1
	id       func(m *M) *string
	// extra holds the rules a field table cannot express.
	extra func(v *checker, m *M)
	// normalizes: Normalize has something to do at some depth.
	normalizes bool
	// dated are the fields CheckDates looks at: dates, and messages with
	// dates at some depth.
	dated []field[M]
	// byNum is the field of each field number, nil where there is none,
	// for reading the protobuf encoding (wire.go).
	byNum []field[M]
	// unknownAt is the offset in M of the generated unknownFields, where
	// the unknown fields are read without ProtoReflect, whose first call on
	// each message stores its state: that was a tenth of encoding a record,
	// which has a message for every line, tax and reference. -1 when M has
	// no such field, and ProtoReflect is asked.
	unknownAt int
}

// unknownFieldsAt is the offset of M's unknownFields when it is the
// []byte protobuf-go keeps a message's unknown fields in, else -1.
func unknownFieldsAt[M any]() int {
	sf, ok := reflect.TypeFor[M]().FieldByName("unknownFields")
	if !ok || sf.Type != reflect.TypeFor[[]byte]() || len(sf.Index) != 1 {
		return -1
	}
	return int(sf.Offset)
}

// unknown is m's unknown fields, as ProtoReflect().GetUnknown() gives them.
func (p *plan[M]) unknown(m *M) []byte {
	if p.unknownAt >= 0 {
		return *(*[]byte)(unsafe.Add(unsafe.Pointer(m), p.unknownAt))
	}
	return any(m).(proto.Message).ProtoReflect().GetUnknown()
}

// newPlan builds the plan of M from accessors of all its fields, in any
// order. A field without an accessor, or an accessor of the wrong kind, is a
// programming error found by any test of the package.
func newPlan[M any](fields ...field[M]) *plan[M] {
	var zero M
	pm, ok := any(&zero).(proto.Message)
	if !ok {
		panic(fmt.Sprintf("records: %T is not a generated message", &zero))
	}
	md := pm.ProtoReflect().Descriptor()
	fds := md.Fields()
	if fds.Len() != len(fields) || fds.Len() > 64 {
		panic(fmt.Sprintf("records: %s has %d fields and its plan %d (at most 64)", md.FullName(), fds.Len(), len(fields)))
	}
	p := &plan[M]{md: md, fields: make([]field[M], len(fields)), names: make([]string, len(fields)), idIdx: -1, unknownAt: unknownFieldsAt[M]()}
	for _, f := range fields {
		fd := fds.ByJSONName(f.meta().json)
		if fd == nil || p.fields[fd.Index()] != nil {
			panic(fmt.Sprintf("records: %s: no field %q, or two accessors for it", md.FullName(), f.meta().json))
		}
		if err := f.bind(md, fd); err != nil {
			panic(fmt.Sprintf("records: %s.%s: %v", md.FullName(), fd.Name(), err))
		}
		p.fields[fd.Index()] = f
		p.names[fd.Index()] = fd.JSONName()
		if fd.Index() > 0 && fds.Get(fd.Index()-1).Number() >= fd.Number() {
			panic(fmt.Sprintf("records: %s: fields are not declared in number order", md.FullName()))
		}
		if s, ok := f.(*strField[M]); ok && fd.JSONName() == "id" {
			p.idIdx, p.id = fd.Index(), s.get
		}
		p.normalizes = p.normalizes || f.meta().country || normalizes(f)
	}
	for _, f := range p.fields {
		if f.meta().time || hasDates(f) {
			p.dated = append(p.dated, f)
		}
	}
	var top protowire.Number
	for _, f := range p.fields {
		top = max(top, f.meta().num)
	}
	p.byNum = make([]field[M], top+1)
	for _, f := range p.fields {
		p.byNum[f.meta().num] = f
	}
	for _, name := range requiredFields(md.FullName()) {
		if fd := fds.ByName(name); fd != nil {
			f := p.fields[fd.Index()]
			f.meta().required = requiredMessage(md, fd)
			p.required = append(p.required, f)
		}
	}
	return p
}

// normalizes reports whether a nested field's plan has anything to trim.
func normalizes(f any) bool {
	if n, ok := f.(interface{ nestedNormalizes() bool }); ok {
		return n.nestedNormalizes()
	}
	return false
}

// hasDates reports whether a nested field's plan has dates at some depth.
func hasDates(f any) bool {
	if n, ok := f.(interface{ nestedDates() bool }); ok {
		return n.nestedDates()
	}
	return false
}

func bindMeta(f *fieldMeta, md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) {
	f.name, f.num = fd.Name(), fd.Number()
	if fd.Kind() != protoreflect.StringKind {
		return
	}
	f.class, f.dec, f.time = classOf(md, fd), decimalKindOf(fd), isTimeField(fd)
	f.modified = fd.Name() == "modified_date" || fd.Name() == "source_modified_date"
	f.country = fd.Name() == "country" && !fd.IsList()
	rule, isEnum := enumFor(md.FullName(), fd.Name())
	switch {
	case f.class == classID:
		f.rule = ruleID
	case f.dec != notDecimal:
		f.rule = ruleDecimal
	case f.time:
		f.rule = ruleTime
	case isCurrencyField(fd):
		f.rule = ruleCurrency
	case isEnum:
		f.rule, f.enum = ruleEnum, rule
	}
}

func kindError(fd protoreflect.FieldDescriptor, want string) error {
	return fmt.Errorf("the accessor is for %s, and the field is a %s (list %v)", want, fd.Kind(), fd.IsList())
}

// strField is a string.
type strField[M any] struct {
	fieldMeta
	get func(m *M) *string
}

func str[M any](json string, get func(m *M) *string) field[M] {
	return &strField[M]{fieldMeta: fieldMeta{json: json}, get: get}
}

func (f *strField[M]) bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error {
	if fd.Kind() != protoreflect.StringKind || fd.Cardinality() == protoreflect.Repeated || fd.HasPresence() {
		return kindError(fd, "a string")
	}
	bindMeta(&f.fieldMeta, md, fd)
	return nil
}

// boolField is a bool.
type boolField[M any] struct {
	fieldMeta
	get func(m *M) *bool
}

func boolean[M any](json string, get func(m *M) *bool) field[M] {
	return &boolField[M]{fieldMeta: fieldMeta{json: json}, get: get}
}

func (f *boolField[M]) bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error {
	if fd.Kind() != protoreflect.BoolKind || fd.Cardinality() == protoreflect.Repeated || fd.HasPresence() {
		return kindError(fd, "a bool")
	}
	bindMeta(&f.fieldMeta, md, fd)
	return nil
}

// msgField is a message of type C.
type msgField[M, C any] struct {
	fieldMeta
	get  func(m *M) **C
	plan *plan[C]
}

func message[M, C any](json string, get func(m *M) **C, p *plan[C]) field[M] {
	return &msgField[M, C]{fieldMeta: fieldMeta{json: json}, get: get, plan: p}
}

func (f *msgField[M, C]) bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error {
	if fd.Message() == nil || fd.IsList() || fd.IsMap() || fd.ContainingOneof() != nil || fd.Message().FullName() != f.plan.md.FullName() {
		return kindError(fd, string(f.plan.md.FullName()))
	}
	bindMeta(&f.fieldMeta, md, fd)
	return nil
}

func (f *msgField[M, C]) nestedNormalizes() bool { return f.plan.normalizes }
func (f *msgField[M, C]) nestedDates() bool      { return len(f.plan.dated) > 0 }

// listField is a repeated message of type C.
type listField[M, C any] struct {
	fieldMeta
	get  func(m *M) *[]*C
	plan *plan[C]
}

func list[M, C any](json string, get func(m *M) *[]*C, p *plan[C]) field[M] {
	return &listField[M, C]{fieldMeta: fieldMeta{json: json}, get: get, plan: p}
}

func (f *listField[M, C]) bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error {
	if fd.Message() == nil || !fd.IsList() || fd.Message().FullName() != f.plan.md.FullName() {
		return kindError(fd, "a list of "+string(f.plan.md.FullName()))
	}
	bindMeta(&f.fieldMeta, md, fd)
	return nil
}

func (f *listField[M, C]) nestedNormalizes() bool { return f.plan.normalizes }
func (f *listField[M, C]) nestedDates() bool      { return len(f.plan.dated) > 0 }

// strListField is a repeated string.
type strListField[M any] struct {
	fieldMeta
	get func(m *M) *[]string
}

func strList[M any](json string, get func(m *M) *[]string) field[M] {
	return &strListField[M]{fieldMeta: fieldMeta{json: json}, get: get}
}

func (f *strListField[M]) bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error {
	if fd.Kind() != protoreflect.StringKind || !fd.IsList() {
		return kindError(fd, "a list of strings")
	}
	bindMeta(&f.fieldMeta, md, fd)
	return nil
}

// structField is free-form JSON (google.protobuf.Struct).
type structField[M any] struct {
	fieldMeta
	get func(m *M) **structpb.Struct
}

func freeForm[M any](json string, get func(m *M) **structpb.Struct) field[M] {
	return &structField[M]{fieldMeta: fieldMeta{json: json}, get: get}
}

func (f *structField[M]) bind(md protoreflect.MessageDescriptor, fd protoreflect.FieldDescriptor) error {
	if fd.Message() == nil || fd.IsList() || fd.Message().FullName() != "google.protobuf.Struct" {
		return kindError(fd, "google.protobuf.Struct")
	}
	bindMeta(&f.fieldMeta, md, fd)
	return nil
}

// recordPlan is a plan seen through proto.Message, for the entry points
// that take any message.
type recordPlan interface {
	decodeRecord(d *decoder, m proto.Message) (keys int, hasID bool, id string, err error)
	validateRecord(v *checker, m proto.Message)
	datesOf(c *dateChecker, m proto.Message)
	normalizeRecord(m proto.Message)
	isDelete(m proto.Message) bool
	idOf(m proto.Message) (string, bool)
	sizeOf(m proto.Message) int
	appendRecord(b []byte, m proto.Message) ([]byte, error)
	wireRecord(d *WireDecoder, b []byte, m proto.Message) bool
	checkID(lim Limits, m proto.Message) []*commercesyncv1.FieldError
}

// record adapts plan[M] to recordPlan; m is always a non-nil *M (planOf).
type record[M any] struct{ p *plan[M] }

func (r record[M]) decodeRecord(d *decoder, m proto.Message) (int, bool, string, error) {
	msg := any(m).(*M)
	keys, hasID, err := r.p.decode(d, msg)
	id := ""
	if r.p.id != nil {
		id = *r.p.id(msg)
	}
	return keys, hasID, id, err
}

func (r record[M]) validateRecord(v *checker, m proto.Message) { r.p.validate(v, any(m).(*M)) }
func (r record[M]) datesOf(c *dateChecker, m proto.Message)    { r.p.dates(c, any(m).(*M)) }
func (r record[M]) normalizeRecord(m proto.Message)            { r.p.normalize(any(m).(*M)) }
func (r record[M]) sizeOf(m proto.Message) int                 { return r.p.size(any(m).(*M)) }
func (r record[M]) appendRecord(b []byte, m proto.Message) ([]byte, error) {
	return r.p.encode(b, any(m).(*M))
}

func (r record[M]) wireRecord(d *WireDecoder, b []byte, m proto.Message) bool {
	return r.p.wire(d, b, any(m).(*M))
}

// checkID is Limits.CheckID on the plan.
func (r record[M]) checkID(lim Limits, m proto.Message) []*commercesyncv1.FieldError {
	if r.p.id == nil {
		return nil
	}
	f := r.p.fields[r.p.idIdx].meta()
	v := checker{lim: lim.WithDefaults()}
	if p := v.stringProblem(f, *r.p.id(any(m).(*M)), true); p != "" {
		return []*commercesyncv1.FieldError{{Field: f.json, Message: p}}
	}
	return nil
}

func (r record[M]) idOf(m proto.Message) (string, bool) {
	if r.p.id == nil {
		return "", false
	}
	return *r.p.id(any(m).(*M)), true
}

// isDelete is IsDelete: the id is set and nothing else is.
func (r record[M]) isDelete(m proto.Message) bool {
	msg := any(m).(*M)
	if r.p.id == nil || *r.p.id(msg) == "" {
		return false
	}
	for i, f := range r.p.fields {
		if i != r.p.idIdx && f.has(msg) {
			return false
		}
	}
	return len(m.ProtoReflect().GetUnknown()) == 0
}
