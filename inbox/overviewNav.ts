/** The way to the period overview, shown on the inbox's main page and on the overview itself. */

function checked(period: string): string {
  // Only a YYYYMM reaches the markup (so nothing here needs escaping).
  if (!/^\d{6}$/.test(period)) throw new Error(`not a tax period: ${JSON.stringify(period)}`);
  return period;
}

export function overviewPath(period: string): string {
  return `/overview?period=${checked(period)}`;
}

/** A GET form to /overview; the route checks what is typed (YYYYMM, or YYYY-MM). */
export function periodPicker(period: string): string {
  return `<form method="get" action="/overview" class="period-picker">
<label>税款所属期 Period <input name="period" value="${checked(period)}" required maxlength="7" pattern="\\d{4}-?\\d{2}" title="YYYYMM"></label>
<button type="submit">查看概览 Show overview</button></form>`;
}

/** The link to this period's overview and the picker for another. */
export function overviewNav(period: string): string {
  return `<nav class="overview-nav"><a class="overview-link" href="${overviewPath(period)}">本期概览 Period overview (${checked(period)})</a>
${periodPicker(period)}</nav>`;
}
