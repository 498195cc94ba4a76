// Which stored rubric versions a new walkthrough may use: of each rubric, the newest the
// district has not retired. Retired versions stay on the tablet for the drafts and amendments
// that use them (the server still accepts those); they are only not offered to start one.
export function currentVersions(rubrics) {
  const current = new Map();
  for (const r of rubrics) {
    if (r.retired) continue;
    const held = current.get(r.rubric.id);
    if (!held || held.number < r.number) current.set(r.rubric.id, r);
  }
  return current;
}
