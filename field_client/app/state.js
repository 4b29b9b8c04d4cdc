// The page's shared state: what the app last said about the tablet and its worker, and the forms
// this worker may fill in.

export const app = {
  state: null,            // GET /app/api/state
  forms: [],              // GET /app/api/forms: [FORM]
  formsByName: new Map(),
};

export function setForms(forms) {
  app.forms = forms;
  app.formsByName = new Map(forms.map((f) => [f.form, f]));
}

export function worker() {
  return app.state?.worker ?? null;
}

// Partner returns are for partner leads and the coordinator (the server refuses the others).
export function mayEnterReturns() {
  return ['partner_lead', 'coordinator'].includes(worker()?.role);
}

// May this worker change a record? Field workers change only their own; leads and the
// coordinator their organisation's. The app refuses what it must (409 not_yours): this only
// decides which buttons are shown.
export function mayChange(record) {
  return Boolean(record?.mine) || mayEnterReturns();
}
