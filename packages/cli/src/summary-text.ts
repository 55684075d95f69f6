/** Renders the HTML of a job summary (as our helpers write it) as plain text for a terminal. */
export function summaryToText(html: string): string {
  return html
    .replace(/<h([1-6])>(.*?)<\/h\1>/gs, (_m, level: string, text: string) => `${'#'.repeat(Number(level))} ${text}\n`)
    .replace(/<tr>(.*?)<\/tr>/gs, (_m, row: string) => {
      const cells = [...row.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map((match) => match[1]);
      return `| ${cells.join(' | ')} |\n`;
    })
    .replace(/<summary>(.*?)<\/summary>/gs, '▸ $1\n')
    .replace(/<li>(.*?)<\/li>/gs, '- $1\n')
    .replace(/<br\s*\/?>/g, '\n')
    .replace(/<\/p>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
