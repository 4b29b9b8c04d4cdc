// A photo question (type image): "Take a photo" opens the tablet's camera (or its pictures); the
// photo goes straight to the tablet's store, which checks it is a JPEG or PNG, removes where it
// was taken and keeps it sealed, and answers with its name (docs/app-api.md). The answer is that
// name; the preview is read back from the store, so what is shown is what will be sent.

import { el } from './dom.js';
import { ApiError, signedOut } from './api.js';
import { question, changed, base } from './question.js';

const MAX_BYTES = 10 * 1024 * 1024;  // tunables::kMaxAttachmentBytes

export function photoWidget(field, { form }) {
  const parts = question(field.name, field.label, field.help, field.required, false, field.lang);
  // The file input opens the camera; the button people see is the big one below.
  const input = el('input', {
    id: `f-${field.name}`, type: 'file', accept: 'image/jpeg,image/png', capture: 'environment',
    class: 'file-input', tabindex: '-1', 'aria-describedby': parts.describedBy,
  });
  // The buttons say which question they answer: "Photo of the problem Take a photo".
  const label = parts.wrapper.querySelector('.question-label');
  label.id = `l-${field.name}`;
  const take = el('button', { type: 'button', class: 'secondary', text: 'Take a photo',
    id: `b-${field.name}`, 'aria-labelledby': `${label.id} b-${field.name}`,
    'aria-describedby': parts.describedBy, onclick: () => input.click() });
  const remove = el('button', { type: 'button', class: 'secondary', text: 'Remove photo',
    id: `r-${field.name}`, 'aria-labelledby': `${label.id} r-${field.name}`, hidden: true });
  const status = el('p', { class: 'hint photo-status', role: 'status' });
  const preview = el('img', { class: 'photo-preview', alt: '', hidden: true });
  parts.wrapper.append(input, el('div', { class: 'photo-actions' }, take, remove), status, preview);

  let name = null;   // the photo's name in the tablet's store: the answer
  let busy = false;  // a photo is being kept
  let problem = '';  // why the last photo could not be used

  // A photo this tablet does not hold (taken on another, or changed since) is said in words.
  preview.addEventListener('error', () => {
    if (!name) return;
    preview.hidden = true;
    status.textContent = 'This photo is not on this tablet (it was taken on another one, or ' +
      'changed since). Take another photo to replace it, or leave it as it is.';
  });

  const show = () => {
    preview.hidden = !name;
    if (name) {
      preview.src = `/app/api/photos/${encodeURIComponent(name)}`;
      preview.alt = `Photo for ${field.label}`;
    } else {
      preview.removeAttribute('src');
    }
    remove.hidden = !name;
    take.textContent = name ? 'Take another photo' : 'Take a photo';
  };

  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    input.value = '';  // the same picture may be picked again later
    if (!file) return;
    problem = '';
    widget.setError('');
    if (file.size > MAX_BYTES) {
      problem = `This photo is ${(file.size / 1048576).toFixed(1)} MB; the largest the tablet ` +
        'keeps is 10 MB. Take it again at a lower size.';
      widget.setError(problem);
      return;
    }
    busy = true;
    take.disabled = true;
    status.textContent = 'Keeping the photo on this tablet…';
    try {
      let response;
      try {
        response = await fetch(`/app/api/photos?form=${encodeURIComponent(form)}` +
          `&field=${encodeURIComponent(field.name)}`, {
          method: 'POST', body: file, credentials: 'same-origin', cache: 'no-store',
          headers: { 'Content-Type': file.type || 'application/octet-stream' },
        });
      } catch {
        throw new Error('The app on this tablet is not answering, so the photo was not kept. ' +
          'Start the app again and take the photo again.');
      }
      const body = await response.json().catch(() => ({}));
      if (response.status === 401) {
        // Signed out meanwhile (a shared tablet's idle time): the PIN pad, as for any request.
        signedOut(new ApiError(body?.error?.message ?? 'Sign in again.', 401, body?.error?.code));
      }
      if (!response.ok) throw new Error(body?.error?.message ?? 'The photo could not be kept.');
      name = body.name;
      status.textContent = 'Photo kept on this tablet, without where it was taken. It is sent ' +
        'with the record at the next sync.';
      show();
      changed(parts.wrapper);
    } catch (error) {
      problem = error.message;
      status.textContent = '';
      widget.setError(problem);
    } finally {
      busy = false;
      take.disabled = false;
    }
  });

  remove.addEventListener('click', () => {
    name = null;
    status.textContent = 'Photo removed from this record.';
    show();
    take.focus();
    changed(parts.wrapper);
  });

  const widget = base(field, parts, () => [take], {
    read() {
      if (busy) return { value: name ?? undefined, draft: name ?? undefined, error: 'Wait until the photo is kept' };
      return { value: name ?? undefined, draft: name ?? undefined, error: '' };
    },
    write(value) {
      name = typeof value === 'string' && value ? value : null;
      status.textContent = '';
      show();
    },
    focusTarget: () => take,
  });
  return widget;
}
