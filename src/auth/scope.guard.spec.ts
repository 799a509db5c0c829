import { admittingScope } from './scope.guard';
import type { Scope } from './scopes';

const holding = (...scopes: Scope[]) => new Set<Scope>(scopes);

describe('admittingScope', () => {
  it('counts a request under `read` when the endpoint takes it and the token holds it, whatever the declared order', () => {
    expect(admittingScope(['metrics', 'read'], holding('metrics', 'read'))).toBe('read');
    expect(admittingScope(['read', 'metrics'], holding('metrics', 'read'))).toBe('read');
    expect(admittingScope(['read', 'notify'], holding('read', 'notify'))).toBe('read');
  });

  it('counts it under the feature scope when the token holds that and not `read`, and admits nothing it lacks', () => {
    expect(admittingScope(['metrics', 'read'], holding('metrics'))).toBe('metrics');
    expect(admittingScope(['read', 'vk-admin'], holding('vk-admin', 'notify'))).toBe('vk-admin');
    expect(admittingScope(['metrics'], holding('metrics', 'read'))).toBe('metrics');
    expect(admittingScope(['notify'], holding('read'))).toBeUndefined();
    expect(admittingScope(['read', 'notify'], holding('metrics'))).toBeUndefined();
  });
});
