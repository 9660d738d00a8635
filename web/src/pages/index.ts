/**
 * The dashboard's pages, in navigation order. A new page (live rollouts over the rollouts
 * stream, canary analyses) is one file implementing `Page` and one line here.
 */
import { analysesPage } from './analyses-page.js';
import { cadencePage } from './cadence-page.js';
import { deploymentsPage } from './deployments-page.js';
import { incidentsPage } from './incidents-page.js';
import { overviewPage } from './overview-page.js';
import { rolloutsPage } from './rollouts-page.js';
import type { Page } from './page.js';

export type { Page } from './page.js';

export const pages: readonly Page[] = [
  overviewPage,
  cadencePage,
  deploymentsPage,
  incidentsPage,
  rolloutsPage,
  analysesPage,
];
