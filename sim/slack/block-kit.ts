/**
 * The Block Kit limits the simulated Slack enforces (Slack answers `invalid_blocks` when one is
 * broken): header text over 150, section text over 3000 and fields over 2000 characters, button text
 * over 75 and value over 2000, duplicate action_id, more than 50 blocks, and block or element types
 * the product never sends.
 */
export type Fields = Record<string, unknown>;

/** Slack Block Kit limits the simulator enforces; the first problem found, or null. */
export function blockKitProblem(blocks: unknown): string | null {
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return 'no more than 50 blocks';
  const actionIds = new Set<string>();
  const textOf = (t: unknown, where: string, max: number, plainOnly = false): string | null => {
    if (!t || typeof t !== 'object') return `${where}: text object required`;
    const { type, text } = t as { type?: unknown; text?: unknown };
    if (type !== 'plain_text' && (plainOnly || type !== 'mrkdwn')) return `${where}: text type must be ${plainOnly ? 'plain_text' : 'plain_text or mrkdwn'}`;
    if (typeof text !== 'string' || text.length === 0) return `${where}: text must be a non-empty string`;
    if (text.length > max) return `${where}: must be less than ${max + 1} characters`;
    return null;
  };
  for (const [i, block] of blocks.entries()) {
    const where = `[${i}]`;
    if (!block || typeof block !== 'object') return `${where}: block must be an object`;
    const b = block as Fields;
    switch (b.type) {
      case 'header': {
        const p = textOf(b.text, `${where}.text`, 150, true);
        if (p) return p;
        break;
      }
      case 'section': {
        if (b.text === undefined && b.fields === undefined) return `${where}: section needs text or fields`;
        if (b.text !== undefined) {
          const p = textOf(b.text, `${where}.text`, 3000);
          if (p) return p;
        }
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10) return `${where}.fields: 1 to 10 text objects`;
          for (const [j, f] of b.fields.entries()) {
            const p = textOf(f, `${where}.fields[${j}]`, 2000);
            if (p) return p;
          }
        }
        break;
      }
      case 'context': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) return `${where}.elements: 1 to 10 elements`;
        for (const [j, e] of b.elements.entries()) {
          const p = textOf(e, `${where}.elements[${j}]`, 3000);
          if (p) return p;
        }
        break;
      }
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) return `${where}.elements: 1 to 25 elements`;
        for (const [j, e] of b.elements.entries()) {
          const el = (e ?? {}) as Fields;
          const at = `${where}.elements[${j}]`;
          if (el.type !== 'button') return `${at}: only buttons are simulated`;
          const p = textOf(el.text, `${at}.text`, 75, true);
          if (p) return p;
          if (typeof el.action_id !== 'string' || el.action_id.length === 0 || el.action_id.length > 255) return `${at}.action_id: 1 to 255 characters`;
          if (actionIds.has(el.action_id)) return `${at}.action_id: duplicate action_id ${el.action_id}`;
          actionIds.add(el.action_id);
          if (el.value !== undefined && (typeof el.value !== 'string' || el.value.length > 2000)) return `${at}.value: at most 2000 characters`;
          if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') return `${at}.style: primary or danger`;
          if (el.confirm !== undefined) {
            const c = el.confirm as Fields;
            const problem =
              textOf(c.title, `${at}.confirm.title`, 100, true) ??
              textOf(c.text, `${at}.confirm.text`, 300) ??
              textOf(c.confirm, `${at}.confirm.confirm`, 30, true) ??
              textOf(c.deny, `${at}.confirm.deny`, 30, true);
            if (problem) return problem;
          }
        }
        break;
      }
      case 'divider':
        break;
      default:
        return `${where}: unsupported block type ${JSON.stringify(b.type)}`;
    }
  }
  return null;
}
