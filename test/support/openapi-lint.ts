import SwaggerParser from '@apidevtools/swagger-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import spectralCore from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import spectralRulesets from '@stoplight/spectral-rulesets';

// The Spectral packages are CommonJS without named ESM exports.
const { Document, Spectral } = spectralCore;
const { Json } = spectralParsers;
const { oas } = spectralRulesets;

export interface Problem {
  tool: 'swagger-parser' | 'redocly' | 'spectral';
  severity: 'error' | 'warning';
  rule: string;
  where: string;
  message: string;
}

/** swagger-parser: structural validation against the OpenAPI schema, plus its own checks. */
export async function swaggerParserProblems(text: string): Promise<Problem[]> {
  try {
    await SwaggerParser.validate(JSON.parse(text) as never);
    return [];
  } catch (error) {
    const details = (error as { details?: { instancePath?: string; message?: string }[] }).details;
    if (details?.length) return details.map((d) => ({ tool: 'swagger-parser', severity: 'error', rule: 'schema', where: d.instancePath ?? '', message: d.message ?? '' }));
    return [{ tool: 'swagger-parser', severity: 'error', rule: 'validate', where: '', message: (error as Error).message.slice(0, 2000) }];
  }
}

/** Redocly's `recommended` ruleset. */
export async function redoclyProblems(text: string): Promise<Problem[]> {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source: text, absoluteRef: 'openapi.json', config });
  return problems.map((p) => ({
    tool: 'redocly',
    severity: p.severity === 'error' ? 'error' : 'warning',
    rule: p.ruleId,
    where: p.location.map((l) => l.pointer ?? '').join(' '),
    message: p.message,
  }));
}

/** Spectral with `spectral:oas` (its recommended OpenAPI rules). */
export async function spectralProblems(text: string): Promise<Problem[]> {
  const spectral = new Spectral();
  spectral.setRuleset({ extends: [[oas as never, 'recommended']] } as never);
  const results = await spectral.run(new Document(text, Json, 'openapi.json'));
  return results.map((r) => ({
    tool: 'spectral',
    severity: r.severity === 0 ? 'error' : 'warning',
    rule: String(r.code),
    where: r.path.join('.'),
    message: r.message,
  }));
}

export async function allProblems(text: string): Promise<Problem[]> {
  return [...(await swaggerParserProblems(text)), ...(await redoclyProblems(text)), ...(await spectralProblems(text))];
}
