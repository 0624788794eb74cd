/** A text field of a submitted form: '' when it is absent (a file input is not a text field). */
export function field(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}
