// Which questions apply, from the form's `relevant` conditions (docs/forms.md), and where they go:
// each dependent question right under the one that triggers it.

export function isEmpty(value) {
  return value === undefined || value === null || value === '' ||
    (Array.isArray(value) && value.length === 0);
}

// Whether condition `rel` holds for the answers given (only those of questions that apply).
export function holds(rel, values) {
  const value = values[rel.field];
  if (isEmpty(value)) return false;
  if ('equals' in rel) return value === rel.equals;
  if (Array.isArray(rel.in)) return rel.in.includes(value);
  if ('includes' in rel) return Array.isArray(value) && value.includes(rel.includes);
  if ('in_list' in rel) {
    // The app resolves the list's codes; without them the question is shown and the app decides.
    return Array.isArray(rel.codes) ? rel.codes.includes(value) : true;
  }
  return true;  // present, or a condition this page does not know: shown, the app decides
}

// The fields in the order they are shown: the form's order, except that a field whose condition
// names an earlier field comes right after that field (and after its other dependents).
export function displayOrder(fields) {
  const byName = new Map(fields.map((f, i) => [f.name, i]));
  const children = new Map();
  const roots = [];
  fields.forEach((field, i) => {
    const trigger = field.relevant?.field;
    if (trigger !== undefined && byName.has(trigger) && byName.get(trigger) < i) {
      if (!children.has(trigger)) children.set(trigger, []);
      children.get(trigger).push(field);
    } else {
      roots.push(field);
    }
  });
  const order = [];
  const visit = (field) => {
    order.push(field);
    for (const child of children.get(field.name) ?? []) visit(child);
  };
  roots.forEach(visit);
  return order;
}
