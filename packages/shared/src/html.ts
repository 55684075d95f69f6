/**
 * Text made safe inside HTML elements and quoted attributes: each of & < > " ' as a numeric entity.
 * It lives apart from summary.ts (which re-exports it) so that secrets.ts can compute the escaped
 * form of a secret without importing the module that imports it.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
