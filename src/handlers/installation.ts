/**
 * `installation` (created, deleted, suspend, unsuspend, new_permissions_accepted) and
 * `installation_repositories` (added, removed): the App is installed on, or removed from, repositories.
 * Nothing is posted and nothing is queued: reviews start with the repositories' next pull-request events
 * (and the tree status with the next push to a default branch). One log line says what happened, so an
 * operator following docs/github-app.md ("Install it on a repository") sees the installation arrive.
 */
import type { Context, Probot } from 'probot';

type Repo = { full_name: string };
const names = (repos: readonly Repo[] | undefined): string[] => (repos ?? []).map((r) => r.full_name);

export function registerInstallation(app: Probot): void {
  app.on('installation', async (context: Context<'installation'>) => {
    const p = context.payload;
    const repositories = names(p.repositories as Repo[] | undefined);
    context.log.info({
      installation: p.installation.id, account: p.installation.account && 'login' in p.installation.account ? p.installation.account.login : undefined,
      action: p.action, repositories, selection: p.installation.repository_selection,
    }, `installation ${p.action}: ${p.action === 'created' ? 'reviews start with the next pull-request event' : 'nothing to do'}`);
  });
  app.on('installation_repositories', async (context: Context<'installation_repositories'>) => {
    const p = context.payload;
    context.log.info({
      installation: p.installation.id, action: p.action,
      added: names(p.repositories_added as Repo[]), removed: names(p.repositories_removed as Repo[]),
    }, `installation repositories ${p.action}: ${p.action === 'added' ? 'reviews start with the next pull-request event' : 'nothing to do'}`);
  });
}
