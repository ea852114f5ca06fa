// Text from an operator's file echoed in an error line: control characters as
// \xHH (a CR or an escape sequence would break or recolour the line) and cut
// to 60 characters, so that each problem stays one readable line.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

export function shown (text: string, max = 60): string {
  const cut = text.length > max ? text.slice(0, max - 3) + '...' : text
  return escapeLineControls(cut)
}

/** Control characters (and U+2028/U+2029) as \xHH / \uHHHH. */
export function escapeLineControls (text: string): string {
  return text.replace(CONTROLS, c => c.charCodeAt(0) > 0xff
    ? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
    : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
}
