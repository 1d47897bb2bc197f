/** The workflows this worker runs. Deterministic code only: see eslint's rules for this folder. */
export { incidentWorkflow } from './incident';
