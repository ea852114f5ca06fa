// Text from clients (client ids, payloads, topics) reaches the operator's
// terminal: control characters are shown as \xHH so that none of them can move
// the cursor, recolour or retitle the terminal. JSON output is left exact.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g

/** C0, DEL and C1 characters as \xHH, except those in `keep` (e.g. "\n"). */
export function escapeControls (text: string, keep = ''): string {
  return text.replace(CONTROLS, c => keep.includes(c) ? c : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
}
